package org.circuittracer.attribution.exact;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.Optional;
import org.circuittracer.attribution.replacement.ActiveFeatures;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.VjpResult;

/**
 * The vectors every source writes (docs/reference/algorithm.md §3.3, §3.5) and their contraction with a batch of gradients into rows of
 * direct effects: {@code A[t, s] = Σ over s's write locations ⟨G_t(site, p), v_s⟩}.
 *
 * <ul>
 *   <li>feature {@code i} of source layer ℓ at position p: {@code a_i · decoderRow(ℓ, f_i, m)} at the write site of
 *       every output layer {@code m} it writes (one for a PLT, ℓ … L−1 for a CLT: contributions are summed);</li>
 *   <li>error (ℓ, p): {@code e_ℓ[p]} at the write site of ℓ;</li>
 *   <li>token p: {@code E[p]} at {@code hook_embed}, the point where the backend reads the embedding gradient.</li>
 * </ul>
 *
 * <p>Columns: active features {@code [0, N_act)}, errors {@code N_act + ℓ·T + p}, tokens {@code N_act + L·T + p}.
 * Contraction works layer by layer with dense buffers of at most {@code lanes × (features of one layer)} floats (and
 * gathers of at most {@link #GATHER_BUDGET} floats), so memory does not grow with the product of targets and sources.
 *
 * <p>Decoder rows are not held: each contraction gathers, block by block, the rows it needs from the (lazy)
 * dictionary and scales them by the activations (docs/reference/algorithm.md §3.11). Holding them all would take
 * {@code N_act × d} floats of native memory for the whole attribution, which grows with the prompt (about
 * {@code L · T · (active per token) · d}: gigabytes for real models on 1,000-token prompts). The products are computed
 * exactly as before ({@code float32(row) · a_i}), so the edges are unchanged, bit for bit.
 */
final class SourceVectors {

    /** Upper bound on the floats of one gathered gradient block {@code [lanes, n, d]}. */
    static final long GATHER_BUDGET = 1L << 22;

    private final ActiveFeatures active;
    private final int layers;
    private final int length;
    private final int width;
    private final int[][] outputLayers;
    private final SparseDictionary dictionary;
    /** [source layer] → the dictionary features of its active features, in active order. */
    private final int[][] features;
    /** [source layer] → their activations. */
    private final float[][] values;
    private final long[][] positions;
    private final NDArray errors;
    private final NDArray tokens;

    private SourceVectors(ActiveFeatures active, int length, int width, int[][] outputLayers,
                          SparseDictionary dictionary, NDArray errors, NDArray tokens) {
        this.active = active;
        this.layers = active.layerCount();
        this.length = length;
        this.width = width;
        this.outputLayers = outputLayers;
        this.dictionary = dictionary;
        this.errors = errors;
        this.tokens = tokens;
        this.positions = new long[layers][];
        this.features = new int[layers][];
        this.values = new float[layers][];
        for (int layer = 0; layer < layers; layer++) {
            positions[layer] = Arrays.stream(active.positionsOf(layer)).asLongStream().toArray();
            features[layer] = active.featuresOf(layer);
            values[layer] = active.valuesOf(layer);
        }
    }

    /**
     * The sources of an attribution; decoder rows are gathered from {@code dictionary} when contracting.
     *
     * @param dictionary   stays open for the lifetime of this object
     * @param errors       {@code [L, T, d]}
     * @param tokenVectors {@code [T, d]}
     */
    static SourceVectors build(SparseDictionary dictionary, ActiveFeatures active, NDArray errors,
                               NDArray tokenVectors) {
        int layers = active.layerCount();
        int[][] outputs = new int[layers][];
        for (int layer = 0; layer < layers; layer++) {
            outputs[layer] = dictionary.outputLayers(layer);
        }
        int length = Math.toIntExact(tokenVectors.getShape().get(0));
        int width = Math.toIntExact(tokenVectors.getShape().get(1));
        return new SourceVectors(active, length, width, outputs, dictionary, errors, tokenVectors);
    }

    /** Number of columns of a row: {@code N_act + (L+1)·T}. */
    int columns() {
        return active.size() + (layers + 1) * length;
    }

    /**
     * Appends, for every lane, the row of direct effects of every source on the lane's target, in ascending column
     * order.
     *
     * @param parent owns temporaries (they are released before this returns)
     * @param result the gradients of a batch of {@code rows.length} lanes
     */
    void contract(NDManager parent, VjpResult result, RowBuilder[] rows) {
        try (NDManager scope = parent.newSubManager()) {
            // the long-lived vectors join the scope for this call, so that everything derived from them is freed with it
            scope.tempAttachAll(new NDList(errors, tokens));
            contractIn(scope, result, rows);
        }
    }

    private void contractIn(NDManager scope, VjpResult result, RowBuilder[] rows) {
        int lanes = rows.length;
        int bound = result.positions();
        for (int source = 0; source < layers; source++) {
            int start = active.layerStart(source);
            int count = prefixBelow(positions[source], bound);
            if (count == 0) {
                continue;
            }
            float[] sum = null;
            for (int k = 0; k < outputLayers[source].length; k++) {
                Optional<NDArray> gradient = result.writeSiteGradient(outputLayers[source][k]);
                if (gradient.isEmpty()) {
                    continue;
                }
                float[] part = dotAtPositions(scope, gradient.get(), source, outputLayers[source][k], count, lanes);
                if (sum == null) {
                    sum = part;
                } else {
                    for (int i = 0; i < sum.length; i++) {
                        sum[i] += part[i];
                    }
                }
            }
            if (sum != null) {
                for (int lane = 0; lane < lanes; lane++) {
                    for (int j = 0; j < count; j++) {
                        rows[lane].add(start + j, sum[lane * count + j]);
                    }
                }
            }
        }
        int errorStart = active.size();
        for (int layer = 0; layer < layers; layer++) {
            Optional<NDArray> gradient = result.writeSiteGradient(layer);
            if (gradient.isPresent()) {
                NDArray vectors = errors.get(new NDIndex("{}, :{}", layer, bound));
                appendPerPosition(rows, gradient.get(), vectors, errorStart + layer * length, bound);
            }
        }
        appendPerPosition(rows, result.embeddingGradient(), tokens.get(new NDIndex(":{}", bound)),
                errorStart + layers * length, bound);
    }

    /**
     * {@code out[lane·count + j] = ⟨G[lane, positions[j]], a_j · decoderRow(source, f_j, output)⟩} for
     * {@code j < count}, over the active features of {@code source}; the decoder rows are gathered block by block.
     */
    private float[] dotAtPositions(NDManager scope, NDArray gradient, int source, int output, int count, int lanes) {
        long[] positions = this.positions[source];
        float[] out = new float[lanes * count];
        int chunk = (int) Math.max(1, Math.min(count, GATHER_BUDGET / ((long) lanes * width)));
        // [P, B, d]: positions first, so that a gather is a plain take along axis 0
        NDArray byPosition = gradient.transpose(1, 0, 2);
        for (int from = 0; from < count; from += chunk) {
            int to = Math.min(count, from + chunk);
            try (NDManager block = scope.newSubManager()) {
                NDArray index = block.create(Arrays.copyOfRange(positions, from, to));
                NDArray gathered = byPosition.get(index); // [n, B, d]
                gathered.attach(block);
                NDArray raw = dictionary.decoderRows(block, source, Arrays.copyOfRange(features[source], from, to),
                        output);
                NDArray scale = block.create(Arrays.copyOfRange(values[source], from, to)).reshape(-1, 1);
                NDArray rows = raw.toType(DataType.FLOAT32, false).mul(scale); // [n, d], as a_i · row
                NDArray dots = gathered.mul(rows.expandDims(1)).sum(new int[] {2}); // [n, B]
                float[] values = dots.toFloatArray();
                int n = to - from;
                for (int j = 0; j < n; j++) {
                    for (int lane = 0; lane < lanes; lane++) {
                        out[lane * count + from + j] = values[j * lanes + lane];
                    }
                }
            }
        }
        return out;
    }

    /** Appends {@code ⟨G[lane, p], vectors[p]⟩} at column {@code first + p} for {@code p < bound}. */
    private static void appendPerPosition(RowBuilder[] rows, NDArray gradient, NDArray vectors, int first, int bound) {
        float[] dots = gradient.mul(vectors.expandDims(0)).sum(new int[] {2}).toFloatArray(); // [B, P]
        for (int lane = 0; lane < rows.length; lane++) {
            for (int p = 0; p < bound; p++) {
                rows[lane].add(first + p, dots[lane * bound + p]);
            }
        }
    }

    /** Number of leading entries of an ascending array below {@code bound}. */
    private static int prefixBelow(long[] ascending, int bound) {
        int lo = 0;
        int hi = ascending.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ascending[mid] < bound) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
