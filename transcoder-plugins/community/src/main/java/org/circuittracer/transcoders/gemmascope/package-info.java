/**
 * The GemmaScope dictionary formats: {@code gemma-scope-npz}, GemmaScope's JumpReLU transcoders as NumPy
 * {@code params.npz} files (docs/reference/algorithm.md §8.3), read with
 * {@link org.circuittracer.transcoders.numpy.NpzArchive}; and {@code gemma-scope-2}, GemmaScope 2's
 * {@code params.safetensors} with {@code config.json} ({@code GemmaScope2Reader}).
 */
package org.circuittracer.transcoders.gemmascope;
