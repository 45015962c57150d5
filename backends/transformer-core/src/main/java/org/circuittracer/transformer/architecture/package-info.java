/**
 * The Hugging Face architectures the backends read ({@code architectures} in {@code config.json}: GPT-2, Llama,
 * Gemma-2, Qwen-3) and how each turns its configuration and weights into the shared {@code decoder}.
 *
 * <p><b>Shared by the backends.</b> Exported (OSGi) by the transformer-core library bundle for the {@code djl} and
 * {@code onnx} backend bundles; it is not part of the SPI and carries no compatibility promise beyond them.
 */
@Export
@Version("0.1.0")
package org.circuittracer.transformer.architecture;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
