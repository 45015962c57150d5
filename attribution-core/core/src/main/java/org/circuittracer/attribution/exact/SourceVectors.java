package org.circuittracer.attribution.exact;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
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

    /**
     * Upper bound on the floats of group layouts kept between batches (256 MiB). Every batch contracts the same
     * groups with new gradients, so gathering, scaling and padding the rows once saves a third of the contraction's
     * native calls; past the budget, groups are gathered per batch as before (a large model's rows would not fit).
     */
    static final long CACHE_BUDGET = 1L << 26;

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
    /** Owns the cached layouts: the attribution's manager, which outlives every contraction. */
    private final NDManager owner;
    /** Padded, scaled decoder rows of groups already contracted once, reused by every later batch. */
    private final Map<GroupKey, GroupLayout> layouts = new HashMap<>();
    private long cachedFloats;

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
        this.owner = errors.getManager();
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
            if (outputLayers[source].length == 1) {
                // one write site (a per-layer transcoder): each group's dot products go straight into the rows
                Optional<NDArray> gradient = result.writeSiteGradient(outputLayers[source][0]);
                if (gradient.isPresent()) {
                    dotAtPositions(scope, gradient.get(), source, outputLayers[source][0], count, lanes,
                            new RowsSink(rows, start));
                }
                continue;
            }
            float[] sum = null;
            for (int k = 0; k < outputLayers[source].length; k++) {
                Optional<NDArray> gradient = result.writeSiteGradient(outputLayers[source][k]);
                if (gradient.isEmpty()) {
                    continue;
                }
                float[] part = new float[lanes * count];
                dotAtPositions(scope, gradient.get(), source, outputLayers[source][k], count, lanes,
                        new ArraySink(part, count));
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
                    rows[lane].addRun(start, sum, lane * count, count);
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
    private void dotAtPositions(NDManager scope, NDArray gradient, int source, int output, int count, int lanes,
                                DotSink out) {
        long[] positions = this.positions[source];
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
            contractGroup(scope, byPosition, new GroupKey(source, output, from, to, first, last, widest), lanes, out);
            from = to;
        }
    }

    /** The end of the run of features at {@code positions[from]}. */
    private static int runEnd(long[] positions, int from, int count) {
        int end = from + 1;
        while (end < count && positions[end] == positions[from]) {
            end++;
        }
        return end;
    }

    /**
     * Features {@code [from, to)} of a source layer at positions {@code first … last}, at most {@code widest} at one
     * position, contracted with one output layer's decoder rows.
     */
    private record GroupKey(int source, int output, int from, int to, int first, int last, int widest) {

        int span() {
            return last - first + 1;
        }
    }

    /**
     * A group's padded rows {@code [P_c, d, n_max]} (a transposed view of {@code [P_c, n_max, d]}) and its runs of
     * features at one position: run {@code r} holds features {@code from + runStart[r]} onwards, {@code runLength[r]}
     * of them, in row {@code runPosition[r] − first} of the padding.
     */
    private record GroupLayout(NDArray weightsByColumn, int[] runStart, int[] runLength, int[] runPosition) {
    }

    /** Receives dot products of one lane with consecutive features {@code j, j+1, …} (indices among the layer's). */
    private interface DotSink {
        void accept(int lane, int j, float[] dots, int offset, int length);
    }

    /** Into the lanes' rows, column {@code start + j}: called in ascending {@code j} for each lane. */
    private record RowsSink(RowBuilder[] rows, int start) implements DotSink {
        @Override
        public void accept(int lane, int j, float[] dots, int offset, int length) {
            rows[lane].addRun(start + j, dots, offset, length);
        }
    }

    /** Into {@code out[lane·count + j]}. */
    private record ArraySink(float[] out, int count) implements DotSink {
        @Override
        public void accept(int lane, int j, float[] dots, int offset, int length) {
            System.arraycopy(dots, offset, out, lane * count + j, length);
        }
    }

    private void contractGroup(NDManager scope, NDArray byPosition, GroupKey key, int lanes, DotSink out) {
        int widest = key.widest();
        try (NDManager block = scope.newSubManager()) {
            GroupLayout layout = layouts.get(key);
            if (layout == null) {
                layout = layout(block, key);
                long floats = (long) key.span() * widest * width;
                if (cachedFloats + floats <= CACHE_BUDGET) {
                    layout.weightsByColumn().attach(owner);
                    layouts.put(key, layout);
                    cachedFloats += floats;
                }
            }
            NDArray gradients = byPosition.get(new NDIndex("{}:{}", key.first(), key.last() + 1)); // [P_c, B, d]
            gradients.attach(block);
            float[] dots = gradients.matMul(layout.weightsByColumn()).toFloatArray(); // [P_c, B, n_max]
            int[] runStart = layout.runStart();
            int[] runLength = layout.runLength();
            int[] runPosition = layout.runPosition();
            // lane by lane so that a row's columns arrive in ascending order; a run's dots are contiguous
            for (int lane = 0; lane < lanes; lane++) {
                for (int r = 0; r < runStart.length; r++) {
                    int offset = (runPosition[r] * lanes + lane) * widest;
                    out.accept(lane, key.from() + runStart[r], dots, offset, runLength[r]);
                }
            }
        }
    }

    /** Gathers, scales and pads a group's decoder rows; the arrays are owned by {@code block}. */
    private GroupLayout layout(NDManager block, GroupKey key) {
        long[] positions = this.positions[key.source()];
        int from = key.from();
        int n = key.to() - from;
        int widest = key.widest();
        NDArray raw = dictionary.decoderRows(block, key.source(),
                Arrays.copyOfRange(features[key.source()], from, key.to()), key.output());
        NDArray scale = block.create(Arrays.copyOfRange(values[key.source()], from, key.to())).reshape(-1, 1);
        NDArray rows = raw.toType(DataType.FLOAT32, false).mul(scale); // [n, d], as a_i · row
        // slot (position - first, k) holds feature from + j, or the zero row n
        long[] layout = new long[key.span() * widest];
        Arrays.fill(layout, n);
        int runs = 0;
        int[] runStart = new int[n];
        int[] runLength = new int[n];
        int[] runPosition = new int[n];
        for (int j = 0; j < n; j++) {
            if (j == 0 || positions[from + j] != positions[from + j - 1]) {
                runStart[runs] = j;
                runPosition[runs++] = (int) positions[from + j] - key.first();
            }
            int k = runLength[runs - 1]++;
            layout[runPosition[runs - 1] * widest + k] = j;
        }
        NDArray withZero = rows.concat(block.zeros(new ai.djl.ndarray.types.Shape(1, width)), 0);
        NDArray weights = withZero.get(block.create(layout)).reshape(key.span(), widest, width); // [P_c, n_max, d]
        return new GroupLayout(weights.transpose(0, 2, 1), Arrays.copyOf(runStart, runs),
                Arrays.copyOf(runLength, runs), Arrays.copyOf(runPosition, runs));
    }

    /** Appends {@code ⟨G[lane, p], vectors[p]⟩} at column {@code first + p} for {@code p < bound}. */
    private static void appendPerPosition(RowBuilder[] rows, NDArray gradient, NDArray vectors, int first, int bound) {
        float[] dots = gradient.mul(vectors.expandDims(0)).sum(new int[] {2}).toFloatArray(); // [B, P]
        for (int lane = 0; lane < rows.length; lane++) {
            rows[lane].addRun(first, dots, lane * bound, bound);
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
