package org.circuittracer.backend.onnx;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.circuittracer.backend.onnx.graph.OnnxModelFile;
import org.circuittracer.backend.onnx.sitemap.ResolvedSites;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * The weights the frozen model's adjoint and the unembedding need, located through the site map
 * ({@code blocks.L.attn.W_V}, {@code W_O}, norm gains, {@code unembed.W_U}) and read from the graph's initializers.
 *
 * <p>The weights {@code linearize} needs are read from the initializers once per model (per DJL engine and device,
 * in practice one), on first use, into arrays of a manager this object owns ({@link #shared}); every linearised model
 * gets views of them that share their storage. {@link #close()} releases that manager; views handed out before stay
 * valid (PyTorch keeps a storage alive while any view of it is), so linearised models may outlive the model.
 * Thread-safe.
 */
final class Weights implements AutoCloseable {

    private final OnnxModelFile file;
    private final ResolvedSites sites;
    private final String owner;
    /** Guards {@link #caches}, {@link #extractions} and {@link #closed}. */
    private final Object lock = new Object();
    /** The cached weight arrays by engine and device ({@code "PyTorch@cpu()"}). */
    private final Map<String, Cache> caches = new HashMap<>();
    private int extractions;
    private boolean closed;

    /** The weight arrays of one engine and device, owned by {@code manager}. */
    private record Cache(NDManager manager, Map<String, NDArray> arrays) {
    }

    /**
     * @param owner the model, as error messages name it
     */
    Weights(OnnxModelFile file, ResolvedSites sites, String owner) {
        this.file = file;
        this.sites = sites;
        this.owner = owner;
    }

    boolean has(String key) {
        return sites.weight(key).isPresent();
    }

    /**
     * A weight as an array of {@code manager}, in the graph's {@code [in, out]} orientation (after any column split).
     *
     * @throws CircuitTracerException MALFORMED_FILE when the map names no initializer for it, or it does not split
     */
    NDArray array(NDManager manager, String key) {
        Matrix m = matrix(key);
        return manager.create(m.values(), new Shape(m.dims()));
    }

    /**
     * A weight (as {@link #array}) that shares the storage of the copy this object caches for {@code state}'s engine
     * and device, read from the initializers on the first request only; the returned view belongs to {@code state}.
     * With {@code transposed}, the view is the transpose ({@code [out, in]}).
     *
     * @throws IllegalStateException when the model is closed
     * @throws CircuitTracerException MALFORMED_FILE as {@link #matrix}
     */
    NDArray shared(NDManager state, String key, boolean transposed) {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("The model " + owner + " is closed.");
            }
            String engine = state.getEngine().getEngineName() + "@" + state.getDevice();
            Cache cache = caches.get(engine);
            if (cache == null) {
                NDManager manager = NDManager.newBaseManager(state.getDevice(), state.getEngine().getEngineName());
                manager.setName("onnx-weights");
                cache = new Cache(manager, new HashMap<>());
                caches.put(engine, cache);
            }
            NDArray array = cache.arrays().get(key);
            if (array == null) {
                array = array(cache.manager(), key);
                extractions++;
                cache.arrays().put(key, array);
            }
            // a view (transpose, or reshape to its own shape) made by the cache's manager, handed to `state`
            NDArray view = transposed ? array.transpose() : array.reshape(array.getShape());
            if (view == array) {
                // an engine whose no-op reshape returns the array itself: never hand the cached array away
                view = array.duplicate();
            }
            view.attach(state);
            return view;
        }
    }

    /** How many weights {@link #shared} has read from the initializers (for tests). */
    int extractions() {
        synchronized (lock) {
            return extractions;
        }
    }

    /** How many weight arrays are cached now (for tests). */
    int cached() {
        synchronized (lock) {
            return caches.values().stream().mapToInt(c -> c.arrays().size()).sum();
        }
    }

    /** Releases the cached arrays; later {@link #shared} calls fail. Idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            caches.values().forEach(c -> c.manager().close());
            caches.clear();
        }
    }

    /** The values and dimensions of a weight. */
    Matrix matrix(String key) {
        ResolvedSites.Weight weight = sites.weight(key).orElseThrow(() -> new CircuitTracerException(
                StandardErrorCode.MALFORMED_FILE, "The site map '" + sites.map().family() + "' locates no weight "
                + key + " in " + file.directory().resolve(OnnxModelFile.FILE) + "."));
        float[] values = file.floats(weight.initializer());
        long[] dims = file.dims(weight.initializer());
        if (weight.splitIndex() < 0) {
            return new Matrix(values, dims);
        }
        // a matrix splits into column blocks, a vector (a fused bias) into blocks of entries
        boolean vector = dims.length == 1;
        if ((dims.length != 2 && !vector) || dims[dims.length - 1] % weight.splitCount() != 0) {
            throw file.malformed("weight " + key + " (" + weight.initializer() + ", " + Arrays.toString(dims)
                    + ") cannot be split into " + weight.splitCount() + " column blocks");
        }
        int rows = vector ? 1 : (int) dims[0];
        int columns = (int) dims[dims.length - 1];
        int width = columns / weight.splitCount();
        float[] part = new float[rows * width];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(values, r * columns + weight.splitIndex() * width, part, r * width, width);
        }
        return new Matrix(part, vector ? new long[] {width} : new long[] {rows, width});
    }

    /**
     * A row-major matrix (or vector).
     *
     * @param values the elements
     * @param dims   the dimensions
     */
    record Matrix(float[] values, long[] dims) {
    }
}
