/**
 * The {@code djl} backend: decoder-only transformers implemented natively on DJL NDArrays (PyTorch engine, CPU), so
 * that every TransformerLens site can be read, replaced and added to.
 *
 * <p>Layout: {@code checkpoint} reads {@code config.json} and safetensors weights; {@code architecture} turns each
 * Hugging Face architecture into the shared {@code decoder} (norms, rotary embedding, attention, MLPs, the forward
 * pass, the key/value cache); {@code hooks} validates and applies {@link org.circuittracer.spi.model.Hook}s;
 * {@code linear} is the linearised model and its adjoint sweep; {@code generation} chooses generated tokens;
 * {@code bench} measures throughput (docs/benchmarks/djl-backend.md). The packages are private to the bundle: other
 * bundles reach the provider through the service registry only.
 */
package org.circuittracer.backend.djl;
