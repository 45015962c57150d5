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
 * The vectors every source writes (ALGORITHM.md §3.3, §3.5) and their contraction with a batch of gradients into rows of
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
 */
final class SourceVectors {

    /** Upper bound on the floats of one gathered gradient block {@code [lanes, n, d]}. */
    static final long GATHER_BUDGET = 1L << 22;

    private final ActiveFeatures active;
    private final int layers;
    private final int length;
    private final int width;
    private final int[][] outputLayers;
    /** [source layer][k] → [n_ℓ, d]: decoder rows for output layer outputLayers[ℓ][k], times the activation. */
    private final NDArray[][] decoders;
    private final long[][] positions;
    private final NDArray errors;
    private final NDArray tokens;

    private SourceVectors(ActiveFeatures active, int length, int width, int[][] outputLayers, NDArray[][] decoders,
                          NDArray errors, NDArray tokens) {
        this.active = active;
        this.layers = active.layerCount();
        this.length = length;
        this.width = width;
        this.outputLayers = outputLayers;
        this.decoders = decoders;
        this.errors = errors;
        this.tokens = tokens;
        this.positions = new long[layers][];
        for (int layer = 0; layer < layers; layer++) {
            positions[layer] = Arrays.stream(active.positionsOf(layer)).asLongStream().toArray();
        }
    }

    /**
     * Gathers the decoder rows of every active feature, scaled by its activation.
     *
     * @param manager      owns the gathered rows (for the duration of the attribution)
     * @param errors       {@code [L, T, d]}
     * @param tokenVectors {@code [T, d]}
     */
    static SourceVectors build(NDManager manager, SparseDictionary dictionary, ActiveFeatures active, NDArray errors,
                               NDArray tokenVectors) {
        int layers = active.layerCount();
        int[][] outputs = new int[layers][];
        NDArray[][] decoders = new NDArray[layers][];
        for (int layer = 0; layer < layers; layer++) {
            outputs[layer] = dictionary.outputLayers(layer);
            decoders[layer] = new NDArray[outputs[layer].length];
            int[] features = active.featuresOf(layer);
            if (features.length == 0) {
                continue;
            }
            NDArray values = manager.create(active.valuesOf(layer)).reshape(-1, 1);
            for (int k = 0; k < outputs[layer].length; k++) {
                NDArray rows = dictionary.decoderRows(manager, layer, features, outputs[layer][k]);
                decoders[layer][k] = rows.toType(DataType.FLOAT32, false).mul(values);
                rows.close();
            }
            values.close();
        }
        int length = Math.toIntExact(tokenVectors.getShape().get(0));
        int width = Math.toIntExact(tokenVectors.getShape().get(1));
        return new SourceVectors(active, length, width, outputs, decoders, errors, tokenVectors);
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
            NDList held = new NDList(errors, tokens);
            for (NDArray[] perOutput : decoders) {
                for (NDArray decoder : perOutput) {
                    if (decoder != null) {
                        held.add(decoder);
                    }
                }
            }
            scope.tempAttachAll(held);
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
                float[] part = dotAtPositions(scope, gradient.get(), decoders[source][k], positions[source], count, lanes);
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

    /** {@code out[lane·count + j] = ⟨G[lane, positions[j]], decoder[j]⟩} for {@code j < count}. */
    private float[] dotAtPositions(NDManager scope, NDArray gradient, NDArray decoder, long[] positions, int count,
                                   int lanes) {
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
                NDArray rows = decoder.get(new NDIndex("{}:{}", from, to)); // [n, d]
                rows.attach(block);
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
