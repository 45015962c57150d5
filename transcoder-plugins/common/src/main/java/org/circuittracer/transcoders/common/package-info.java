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
 *
 * <p>What a reader needs besides: {@link org.circuittracer.transcoders.common.TensorChecks} (a weights file holds
 * exactly the expected tensors), {@link org.circuittracer.transcoders.common.JsonFiles} (another tool's JSON
 * configuration, errors naming file and key), {@link org.circuittracer.transcoders.common.Layers} (layer
 * sub-directories, layers 0 … L−1), {@link org.circuittracer.transcoders.common.FormatOptions} (the options
 * {@code readSite}, {@code writeSite}, {@code scan}), {@link org.circuittracer.transcoders.common.CommunityLayouts}
 * (stepping aside for the reference and native formats' markers), {@link org.circuittracer.transcoders.common.Resources}
 * (closing what was opened when opening fails) and {@link org.circuittracer.transcoders.common.Inputs} (the
 * argument checks of a {@code SparseDictionary}'s methods, for a plugin with a dictionary of its own).
 */
@Export
@Version("1.1.0")
package org.circuittracer.transcoders.common;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
