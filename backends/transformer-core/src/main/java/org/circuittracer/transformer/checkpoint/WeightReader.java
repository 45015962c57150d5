package org.circuittracer.transformer.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.ShardedCheckpoint;
import org.circuittracer.safetensors.TensorInfo;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.Precision;
import org.circuittracer.transformer.decoder.DeferredWeight;

/**
 * Reads named weights of a (possibly sharded) safetensors checkpoint into {@link NDArray}s of one manager, checking
 * each tensor's shape against what {@code config.json} implies.
 *
 * <p>F32 tensors become arrays over the memory-mapped file itself (zero copy; the mapping is read-only, so these
 * arrays must never be changed in place: that would crash the JVM). BF16 and other float types are widened to F32
 * in Java first, because DJL's PyTorch engine aborts the JVM on bfloat16. With {@link Precision#FLOAT16} every
 * weight is converted once on load (F16 tensors are mapped as they are).
 *
 * <p><b>Deferred widening.</b> When the BF16/F16 tensors of a float32 model would take more than
 * {@link #DEFER_ABOVE_BYTES} as float32, the weights an architecture marks as forward-only (those the linearised
 * model does not keep) can be read with {@link #deferred}: they stay in the mapped file and are widened into a reused
 * buffer for each product ({@link WidenedWeight}). A Gemma-2-2B-shaped model then holds ~1 GB of float32 (attention
 * value/output projections, norms, embeddings) instead of ~10 GB, at the price of widening ~1.8 G values per forward
 * pass (~2 s on one core).
 */
public final class WeightReader implements AutoCloseable {

    /** Widened weights above this many float32 bytes in all are deferred where the architecture allows: 2 GiB. */
    public static final long DEFER_ABOVE_BYTES = 2L << 30;

    private final ShardedCheckpoint checkpoint;
    private final NDManager manager;
    private final Precision precision;
    private final String architecture;
    private final WidenedWeight.Pool pool; // null: nothing is deferred

    private WeightReader(ShardedCheckpoint checkpoint, NDManager manager, Precision precision, String architecture,
                         long deferAboveBytes) {
        this.checkpoint = checkpoint;
        this.manager = manager;
        this.precision = precision;
        this.architecture = architecture;
        long widenedBytes = 0;
        long largest = 0;
        for (String name : checkpoint.names()) {
            TensorInfo info = checkpoint.info(name);
            if (deferrable(info)) {
                widenedBytes += info.numel() * Float.BYTES;
                largest = Math.max(largest, info.numel());
            }
        }
        boolean defer = precision == Precision.FLOAT32 && widenedBytes > deferAboveBytes;
        this.pool = defer ? new WidenedWeight.Pool((int) largest) : null;
    }

    /**
     * Opens the checkpoint in {@code directory} ({@code model.safetensors} or a sharded index).
     *
     * @param manager      owns every array read (the model's manager)
     * @param architecture named in error messages, e.g. {@code LlamaForCausalLM}
     */
    public static WeightReader open(Path directory, NDManager manager, Precision precision, String architecture) {
        return open(directory, manager, precision, architecture, DEFER_ABOVE_BYTES);
    }

    /**
     * Opens the checkpoint with another deferral threshold ({@code 0}: defer whatever can be; {@link Long#MAX_VALUE}:
     * nothing), e.g. to compare both paths on a small model.
     */
    public static WeightReader open(Path directory, NDManager manager, Precision precision, String architecture,
                                    long deferAboveBytes) {
        return new WeightReader(ShardedCheckpoint.open(directory), manager, precision, architecture, deferAboveBytes);
    }

    /** Whether forward-only weights are widened per use ({@link #deferred}). */
    public boolean defersWidening() {
        return pool != null;
    }

    /** The manager that owns every array read. */
    public NDManager manager() {
        return manager;
    }

    /**
     * A forward-only weight that must exist with exactly {@code shape}, to be widened on each use when this reader
     * defers widening and the tensor is BF16/F16; empty otherwise (read it with {@link #require}).
     */
    public Optional<DeferredWeight> deferred(String name, long... shape) {
        if (pool == null || !checkpoint.contains(name) || !deferrable(checkpoint.info(name))) {
            return Optional.empty();
        }
        TensorInfo info = check(name, shape);
        return Optional.of(new WidenedWeight(checkpoint.bytes(name), info.dtype(), shape, pool));
    }

    /** BF16/F16 tensors small enough for one float32 buffer. */
    private static boolean deferrable(TensorInfo info) {
        return (info.dtype() == DType.BF16 || info.dtype() == DType.F16)
                && info.numel() * Float.BYTES <= Integer.MAX_VALUE;
    }

    /** The data type arrays are read in. */
    public DataType dataType() {
        return precision == Precision.FLOAT16 ? DataType.FLOAT16 : DataType.FLOAT32;
    }

    /** Whether the checkpoint has a tensor of that name. */
    public boolean contains(String name) {
        return checkpoint.contains(name);
    }

    /**
     * A weight that must exist with exactly {@code shape}.
     *
     * @throws CircuitTracerException MALFORMED_FILE naming the tensor, its shape and the expected shape
     */
    public NDArray require(String name, long... shape) {
        if (!checkpoint.contains(name)) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "The checkpoint in "
                    + checkpoint.directory() + " has no tensor \"" + name + "\" (expected shape "
                    + Arrays.toString(shape) + " for " + architecture + " with this config.json). It holds "
                    + checkpoint.names().size() + " tensors" + example() + "; is it a checkpoint of this model?");
        }
        return read(name, shape);
    }

    /** A weight that may be absent (e.g. an untied {@code lm_head.weight}); when present it must have {@code shape}. */
    public Optional<NDArray> optional(String name, long... shape) {
        return checkpoint.contains(name) ? Optional.of(read(name, shape)) : Optional.empty();
    }

    private NDArray read(String name, long[] shape) {
        TensorInfo info = check(name, shape);
        Shape target = new Shape(shape);
        if (info.dtype() == DType.F16 && precision == Precision.FLOAT16) {
            return manager.create(checkpoint.bytes(name), target, DataType.FLOAT16);
        }
        NDArray f32 = manager.create(checkpoint.readAsFloat32Direct(name), target, DataType.FLOAT32);
        if (precision == Precision.FLOAT32) {
            return f32;
        }
        try (f32) {
            return f32.toType(DataType.FLOAT16, true);
        }
    }

    private TensorInfo check(String name, long[] shape) {
        TensorInfo info = checkpoint.info(name);
        if (!Arrays.equals(info.shape(), shape)) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "Tensor \"" + name + "\" in "
                    + checkpoint.fileOf(name) + " has shape " + info.shapeString() + ", but config.json implies "
                    + Arrays.toString(shape) + " for " + architecture + ". The weights do not match config.json.");
        }
        if (!info.dtype().isFloatingPoint()) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "Tensor \"" + name + "\" in "
                    + checkpoint.fileOf(name) + " has dtype " + info.dtype() + "; weights must be floating point "
                    + "(F32, BF16, F16, F64). Quantised checkpoints are not supported.");
        }
        return info;
    }

    private String example() {
        return checkpoint.names().isEmpty() ? "" : " (e.g. \"" + checkpoint.names().get(0) + "\")";
    }

    /** Closes the files; arrays already read and deferred weights stay valid (they keep their mapped buffers). */
    @Override
    public void close() {
        checkpoint.close();
    }
}
