/**
 * The {@code onnx} backend: decoder-only language models exported to ONNX (Hugging Face Optimum's layout) run on ONNX
 * Runtime, CPU or CUDA, with the same hooks, linearised model and generation as the {@code djl} backend
 * (docs/backends/onnx.md).
 *
 * <p>Layout: {@code sitemap} maps canonical hook sites and weights to graph tensors by node name (one JSON map per
 * architecture family, or the user's); {@code graph} reads {@code model.onnx}, rewrites it per hook signature
 * ({@link org.circuittracer.backend.onnx.graph.GraphSurgery}) and caches ONNX Runtime sessions; {@code hooks} turns
 * {@link org.circuittracer.spi.model.Hook}s into the rewritten graph's inputs. What the backend shares with the djl
 * backend (config.json reading, hook checks, the generation loop, the tokenizer, the frozen model's adjoint) is
 * transformer-core's; the exporter that writes such directories is circuit-tracer-onnx-export. The packages are
 * private to the bundle.
 */
package org.circuittracer.backend.onnx;
