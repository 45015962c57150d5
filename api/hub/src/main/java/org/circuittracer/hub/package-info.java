/**
 * The local Hugging Face cache, offline: {@link org.circuittracer.hub.HubCache} resolves Hugging Face repo references
 * ({@link org.circuittracer.hub.RepoRef}: {@code ORG/NAME[/PATH][@REVISION]}, {@code hf://ORG/NAME/PATH?revision=R})
 * to the snapshot files {@code huggingface-cli download} put into {@code HF_HUB_CACHE} (or {@code HF_HOME/hub}, or
 * {@code ~/.cache/huggingface/hub}). Nothing is downloaded: what is not cached is a
 * {@link org.circuittracer.hub.NotCachedException} ({@code FILE_NOT_FOUND}) that says where it looked and gives the
 * {@code huggingface-cli download} line that fetches it.
 *
 * <p>Depends on the JDK and the SPI (for {@link org.circuittracer.spi.CircuitTracerException}) only, so that the
 * command line and dictionary format plugins (the reference's {@code config.yaml} names its files as {@code hf://}
 * URIs) can share it.
 */
@Export
@Version("1.0.0")
package org.circuittracer.hub;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
