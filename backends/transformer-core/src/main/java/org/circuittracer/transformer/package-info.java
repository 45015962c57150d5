/**
 * What the model backends share beyond the SPI: the model's common state and checks
 * ({@link org.circuittracer.transformer.AbstractTransformerModel}), the checks on a model directory, a device name, a
 * prompt and token ids, and the lazily opened tokenizer. Sub-packages: {@code checkpoint}, {@code architecture},
 * {@code decoder}, {@code hooks}, {@code linear}, {@code generation}, {@code tokenizer}.
 *
 * <p><b>Shared by the backends.</b> Exported (OSGi) by the transformer-core library bundle for the {@code djl} and
 * {@code onnx} backend bundles; it is not part of the SPI and carries no compatibility promise beyond them.
 */
@Export
@Version("0.1.0")
package org.circuittracer.transformer;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
