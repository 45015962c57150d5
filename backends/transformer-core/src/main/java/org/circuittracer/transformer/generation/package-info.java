/**
 * Generation shared by the backends: the checks of a request, the token loop with its sampler (greedy, or
 * temperature, top-k and top-p from a seed) and {@code generation_config.json}.
 *
 * <p><b>Shared by the backends.</b> Exported (OSGi) by the transformer-core library bundle for the {@code djl} and
 * {@code onnx} backend bundles; it is not part of the SPI and carries no compatibility promise beyond them.
 */
@Export
@Version("0.1.0")
package org.circuittracer.transformer.generation;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
