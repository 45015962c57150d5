/**
 * Hugging Face {@code tokenizer.json} files run by DJL's tokenizers library, with the special tokens of the model
 * directory.
 *
 * <p><b>Shared by the backends.</b> Exported (OSGi) by the transformer-core library bundle for the {@code djl} and
 * {@code onnx} backend bundles; it is not part of the SPI and carries no compatibility promise beyond them.
 */
@Export
@Version("0.1.0")
package org.circuittracer.transformer.tokenizer;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
