/**
 * The attribution core: what turns a {@link org.circuittracer.spi.model.TransformerModel} and a
 * {@link org.circuittracer.spi.dictionary.SparseDictionary} into attribution graphs (docs/reference/algorithm.md §2-5).
 *
 * <p>Layout: {@code replacement} pairs a model with a dictionary (fit checks, the special-token rule, feature
 * activations, error and token vectors); {@code targets} turns {@link org.circuittracer.spi.attribution.AttributionTargets}
 * into logit directions; {@code exact} is the attributor {@code exact} (one VJP batch per {@code batchSize} targets,
 * influence-ordered feature selection, sparse assembly); {@code prune} computes influence, pruning masks and graph
 * scores on the sparse graph. Everything talks to backends and dictionaries through the SPI only.
 */
package org.circuittracer.attribution;
