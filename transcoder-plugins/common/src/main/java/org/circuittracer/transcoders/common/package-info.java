/**
 * Transcoder mathematics shared by the dictionary-format plugins (docs/reference/algorithm.md §2.2, §2.6, §8.4).
 *
 * <p>A format plugin reads its files into {@link org.circuittracer.transcoders.common.Transcoders} — the weights as
 * {@link org.circuittracer.transcoders.common.RowMatrix} views of safetensors tensors plus small
 * {@link org.circuittracer.transcoders.common.WeightVector}s, with every shape checked — and opens a
 * {@link org.circuittracer.transcoders.common.TranscoderDictionary}, the
 * {@link org.circuittracer.spi.dictionary.SparseDictionary} for per-layer and cross-layer transcoders with lazy or
 * eager encoders and decoders (an encoder may be stored {@code [F, d]} or, as SAELens and GemmaScope store it,
 * {@code [d, F]}). Encoders of any size work: those that one buffer cannot or should not hold (F32 over 2 GiB,
 * F16/BF16) are multiplied in blocks of features read from the mapped files, never whole into the heap.
 * {@link org.circuittracer.transcoders.common.Nonlinearity} holds ReLU, JumpReLU, TopK and ReLU after TopK.
 */
@Export
@Version("1.0.0")
package org.circuittracer.transcoders.common;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
