/**
 * Reading and writing <a href="https://github.com/huggingface/safetensors">safetensors</a> files, the
 * checkpoint format of Hugging Face models and of the transcoders circuit-tracer loads. Depends only on the SPI (its errors are {@link org.circuittracer.spi.CircuitTracerException}s).
 *
 * <p>A safetensors file is an 8-byte little-endian header length {@code N}, an {@code N}-byte UTF-8 JSON
 * header mapping each tensor name to its {@link org.circuittracer.safetensors.DType dtype}, shape and byte
 * range, and then the raw row-major little-endian tensor data.
 *
 * <ul>
 *   <li>{@link org.circuittracer.safetensors.SafetensorsFile} opens one file: it validates the whole header
 *       up front (as strictly as the Python library, and a little more), then memory-maps data lazily, so
 *       opening a multi-gigabyte checkpoint costs only the header. Tensors are read zero-copy
 *       ({@code bytes}), converted to {@code float}/{@code long}/{@code int}, or partially:
 *       {@code gatherRows} / {@code gatherRowSlices} read only selected rows of a large matrix, which is how
 *       transcoder decoders are used.</li>
 *   <li>{@link org.circuittracer.safetensors.ShardedCheckpoint} opens a model directory holding either
 *       {@code model.safetensors} or {@code model.safetensors.index.json} plus its shards, behind the same
 *       {@link org.circuittracer.safetensors.TensorSource} interface.</li>
 *   <li>{@link org.circuittracer.safetensors.SafetensorsWriter} writes files the Python library reads,
 *       atomically.</li>
 *   <li>{@link org.circuittracer.safetensors.HalfFloats} converts IEEE half precision and bfloat16.</li>
 * </ul>
 *
 * <p>Every problem with a file's contents, and every I/O failure, is reported as one unchecked
 * {@link org.circuittracer.safetensors.SafetensorsFormatException} whose
 * {@link org.circuittracer.safetensors.SafetensorsFormatException.Kind kind} says what went wrong and whose
 * message says where (file, tensor, byte offset) and how to fix it. Untrusted sizes are checked against the
 * real file size before anything is allocated or mapped.
 */
@Export
@Version("1.0.0")
package org.circuittracer.safetensors;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
