/**
 * The {@code gemma-scope-npz} dictionary format: GemmaScope's JumpReLU transcoders as NumPy {@code params.npz} files
 * (docs/reference/algorithm.md §8.3), read with {@link org.circuittracer.transcoders.numpy.NpzArchive}.
 */
package org.circuittracer.transcoders.gemmascope;
