/**
 * The {@code djl} backend: decoder-only transformers implemented natively on DJL NDArrays (PyTorch engine, CPU), so
 * that every TransformerLens site can be read, replaced and added to.
 *
 * <p>Layout: {@code checkpoint} reads {@code config.json} and safetensors weights; {@code architecture} turns each
 * Hugging Face architecture into the shared {@code decoder} (norms, rotary embedding, attention, MLPs, the forward
 * pass, the key/value cache); {@code hooks} validates and applies {@link org.circuittracer.spi.model.Hook}s;
 * {@code linear} is the linearised model and its adjoint sweep; {@code generation} chooses generated tokens;
 * {@code bench} measures throughput (docs/benchmarks/djl-backend.md). Other bundles reach the provider through the
 * service registry.
 *
 * <p><b>Internal API.</b> The packages are exported (OSGi) only so that the {@code onnx} backend bundle, which reuses
 * the tokenizer, the architectures, the decoder, the sampler and the adjoint sweep, resolves under {@code --osgi}; no
 * other bundle should import them. They carry no compatibility promise: the version follows the backend's and may
 * change incompatibly in any release.
 */
@Export(substitution = Export.Substitution.NOIMPORT)
@Version("0.1.0")
package org.circuittracer.backend.djl;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
