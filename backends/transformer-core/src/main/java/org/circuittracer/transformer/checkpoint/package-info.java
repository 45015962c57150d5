/**
 * Reading a Hugging Face model directory ({@code config.json} and safetensors weights, memory-mapped), and writing
 * synthetic Llama-style checkpoints of any size for benchmarks.
 *
 * <p><b>Shared by the backends.</b> Exported (OSGi) by the transformer-core library bundle for the {@code djl} and
 * {@code onnx} backend bundles; it is not part of the SPI and carries no compatibility promise beyond them.
 */
@Export
@Version("0.1.0")
package org.circuittracer.transformer.checkpoint;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
