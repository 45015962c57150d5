/**
 * The Python reference's on-disk transcoder format (docs/reference/algorithm.md §8.2–8.4): a directory with {@code config.yaml} and
 * safetensors files, read by two dictionary formats.
 *
 * <ul>
 *   <li>{@link org.circuittracer.transcoders.reference.ReferencePerLayerProvider} ({@code reference-plt}):
 *       {@code model_kind: transcoder_set}, {@code layer_{i}.safetensors} (or the local files listed under
 *       {@code transcoders}) with {@code W_enc [F, d]}, {@code b_enc [F]}, {@code W_dec [F, d]}, {@code b_dec [d]},
 *       optional {@code activation_function.threshold [F]} (JumpReLU) and {@code W_skip [d, d]}.</li>
 *   <li>{@link org.circuittracer.transcoders.reference.ReferenceCrossLayerProvider} ({@code reference-clt}):
 *       {@code model_kind: cross_layer_transcoder}, {@code W_enc_{i}.safetensors} and {@code W_dec_{i}.safetensors}.</li>
 * </ul>
 *
 * <p>What circuit-tracer 0.5 and its users write is read as written: its cache's {@code config.yaml}
 * ({@code yaml.dump}: sorted keys, {@code null} values, which mean absent), keys this build does not use (ignored),
 * {@code activation: jumprelu}, TopK sets with {@code k} in the config, in the files' scalar {@code k} tensor, from the
 * option {@code topk} ({@link org.circuittracer.transcoders.reference.ReferenceOptions}) or hard-coded by the reference
 * for its repository, and {@code transcoders:} lists of {@code hf://} files found in the local Hugging Face cache.
 * EleutherAI clt-training checkpoints beside a {@code config.yaml} are recognised and refused as
 * "unsupported format: …".
 *
 * <p>Weights may be F32, BF16 or F16 and are computed in float32. By default decoder rows are gathered from the
 * memory-mapped files on demand and the encoder is a zero-copy view of the mapping (see
 * {@link org.circuittracer.transcoders.common.TranscoderDictionary}). Dictionaries are WRITABLE;
 * {@link org.circuittracer.transcoders.reference.ReferenceFormatWriter} also writes new sets from tensors.
 */
@Export
@Version("1.0.0")
package org.circuittracer.transcoders.reference;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
