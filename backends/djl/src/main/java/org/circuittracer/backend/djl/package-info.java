/**
 * The {@code djl} backend: the engine-neutral transformer of {@code transformer-core} (architectures, decoder, hooks,
 * the frozen linear model) bound to DJL's PyTorch engine on the CPU, so that every TransformerLens site can be read,
 * replaced and added to.
 *
 * <p>Here: the provider, the model (weights in a PyTorch manager, forward passes, unembedding), its linearisation
 * (with attention-pattern rows recomputed in blocks for long prompts) and its generation passes. Nothing is exported:
 * other bundles reach the provider through the service registry.
 */
package org.circuittracer.backend.djl;
