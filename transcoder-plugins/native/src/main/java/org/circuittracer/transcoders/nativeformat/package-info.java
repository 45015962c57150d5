/**
 * circuit-tracer's own dictionary format, {@code circuit-tracer-dictionary}: a directory with a versioned manifest,
 * {@code dictionary.json}, and one safetensors file per layer.
 *
 * <ul>
 *   <li>{@link org.circuittracer.transcoders.nativeformat.NativeFormatProvider} reads it (lazy or eager encoder and
 *       decoder, F32/BF16/F16 weights) and checks it first: a {@code formatVersion} this build does not read is an
 *       UNSUPPORTED_FORMAT_VERSION error (newer: upgrade circuit-tracer; older: convert again), anything corrupt (bad
 *       JSON, a missing field or file, a size or checksum mismatch, a wrong tensor) a MALFORMED_FILE error naming the
 *       file and field. Its dictionaries are WRITABLE.</li>
 *   <li>{@link org.circuittracer.transcoders.nativeformat.NativeFormatWriter} converts any loaded per-layer or
 *       cross-layer dictionary (e.g. GemmaScope {@code .npz}, SAELens, sparsify) into it with bounded memory, which
 *       makes a format without lazy loading lazily loadable.</li>
 * </ul>
 */
@Export
@Version("1.0.0")
package org.circuittracer.transcoders.nativeformat;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
