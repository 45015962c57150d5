package org.circuittracer.backend.onnx;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.circuittracer.backend.onnx.graph.OnnxModelFile;
import org.circuittracer.backend.onnx.sitemap.ResolvedSites;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * The weights the frozen model's adjoint and the unembedding need, located through the site map
 * ({@code blocks.L.attn.W_V}, {@code W_O}, norm gains, {@code unembed.W_U}) and read from the graph's initializers.
 */
final class Weights {

    private final OnnxModelFile file;
    private final ResolvedSites sites;

    Weights(OnnxModelFile file, ResolvedSites sites) {
        this.file = file;
        this.sites = sites;
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
        if (dims.length != 2 || dims[1] % weight.splitCount() != 0) {
            throw file.malformed("weight " + key + " (" + weight.initializer() + ", " + Arrays.toString(dims)
                    + ") cannot be split into " + weight.splitCount() + " column blocks");
        }
        int rows = (int) dims[0];
        int columns = (int) dims[1];
        int width = columns / weight.splitCount();
        float[] part = new float[rows * width];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(values, r * columns + weight.splitIndex() * width, part, r * width, width);
        }
        return new Matrix(part, new long[] {rows, width});
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
