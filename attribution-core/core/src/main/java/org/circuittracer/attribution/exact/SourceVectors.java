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
 * groups of at most {@link #GATHER_BUDGET} floats), so memory does not grow with the product of targets and sources.
 * Feature columns are batched matrix products over positions ({@link #dotAtPositions}): the gradient is never
 * gathered per feature, which made this memory-bound (docs/benchmarks/synthetic.md).
 *
 * <p>Decoder rows are not held: each contraction gathers, block by block, the rows it needs from the (lazy)
 * dictionary and scales them by the activations (docs/reference/algorithm.md §3.11). Holding them all would take
 * {@code N_act × d} floats of native memory for the whole attribution, which grows with the prompt (about
 * {@code L · T · (active per token) · d}: gigabytes for real models on 1,000-token prompts). The scaled rows are
 * {@code float32(row) · a_i} as in the reference.
 */
final class SourceVectors {

    /** Upper bound on the floats of one group's padded decoder rows {@code [P_c, n_max, d]} and products. */
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
     * {@code j < count}, over the active features of {@code source}.
     *
     * <p>As batched matrix products: the features are grouped by position (they are sorted by position), the scaled
     * decoder rows of a group of positions are laid out as {@code W[P_c, n_max, d]} (zero rows pad a position to the
     * group's largest count), and one {@code [P_c, B, d] × [P_c, d, n_max]} product gives every lane's dot product
     * with every row at its own position. Groups are cut so that padding stays below half of the work and the
     * buffers below {@link #GATHER_BUDGET} floats. Each dot product is the same sum as before in another order, so
     * edges agree to float rounding.
     */
    private float[] dotAtPositions(NDManager scope, NDArray gradient, int source, int output, int count, int lanes) {
        long[] positions = this.positions[source];
        float[] out = new float[lanes * count];
        NDArray byPosition = gradient.transpose(1, 0, 2); // [P, B, d]
        int from = 0;
        while (from < count) {
            // one group: positions first..last holding features [from, to)
            int first = (int) positions[from];
            int to = runEnd(positions, from, count);
            int widest = to - from;
            int last = first;
            while (to < count) {
                int next = runEnd(positions, to, count);
                int span = (int) positions[to] - first + 1;
                int wider = Math.max(widest, next - to);
                long padded = (long) span * wider;
                if (padded > 2L * (next - from) || padded * Math.max(width, lanes) > GATHER_BUDGET) {
                    break;
                }
                widest = wider;
                last = (int) positions[to];
                to = next;
            }
            contractGroup(scope, byPosition, source, output, from, to, first, last, widest, count, lanes, out);
            from = to;
        }
        return out;
    }

    /** The end of the run of features at {@code positions[from]}. */
    private static int runEnd(long[] positions, int from, int count) {
        int end = from + 1;
        while (end < count && positions[end] == positions[from]) {
            end++;
        }
        return end;
    }

    /** Features {@code [from, to)} at positions {@code first … last}, at most {@code widest} at one position. */
    private void contractGroup(NDManager scope, NDArray byPosition, int source, int output, int from, int to,
                               int first, int last, int widest, int count, int lanes, float[] out) {
        long[] positions = this.positions[source];
        int span = last - first + 1;
        int n = to - from;
        try (NDManager block = scope.newSubManager()) {
            NDArray raw = dictionary.decoderRows(block, source, Arrays.copyOfRange(features[source], from, to), output);
            NDArray scale = block.create(Arrays.copyOfRange(values[source], from, to)).reshape(-1, 1);
            NDArray rows = raw.toType(DataType.FLOAT32, false).mul(scale); // [n, d], as a_i · row
            // slot (position - first, k) holds feature from + j, or the zero row n
            long[] layout = new long[span * widest];
            Arrays.fill(layout, n);
            int[] slot = new int[n];
            int k = 0;
            for (int j = 0; j < n; j++) {
                k = j == 0 || positions[from + j] != positions[from + j - 1] ? 0 : k + 1;
                slot[j] = ((int) positions[from + j] - first) * widest + k;
                layout[slot[j]] = j;
            }
            NDArray withZero = rows.concat(block.zeros(new ai.djl.ndarray.types.Shape(1, width)), 0);
            NDArray weights = withZero.get(block.create(layout)).reshape(span, widest, width); // [P_c, n_max, d]
            NDArray gradients = byPosition.get(new NDIndex("{}:{}", first, last + 1)); // [P_c, B, d]
            gradients.attach(block);
            float[] dots = gradients.matMul(weights.transpose(0, 2, 1)).toFloatArray(); // [P_c, B, n_max]
            for (int j = 0; j < n; j++) {
                int base = (slot[j] / widest) * lanes * widest + slot[j] % widest;
                for (int lane = 0; lane < lanes; lane++) {
                    out[lane * count + from + j] = dots[base + lane * widest];
                }
            }
        }
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
