package org.circuittracer.transformer.linear;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.model.HeadLoadings;
import org.circuittracer.spi.model.LinearMap;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.SourceWrites;
import org.circuittracer.spi.model.VjpResult;
import org.circuittracer.spi.model.VjpSeeds;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;

/**
 * Edges of a {@link FrozenTransformer} split over attention heads (docs/attention.md): one reverse sweep of the
 * targets, recording the gradient {@code ḡ_t(m)} at every {@code hook_resid_mid}, and one forward sweep of the sources,
 * recording the change {@code x_s(m)} they make at every {@code hook_resid_pre}. Every path from a source below layer
 * {@code m} to a target at or above it passes {@code resid_pre(m) → resid_mid(m)}, where attention adds
 * {@code Σ_h head_h(x)}; so the edge's part through head {@code h} is {@code ⟨ḡ_t(m), post(head_h(norm(x_s(m))))⟩}
 * and, with the pattern frozen, that is {@code ⟨Z_t[h], U_s[h]⟩} ({@link FrozenAttention#headGradients},
 * {@link FrozenAttention#headValues}): one product per edge and head, of length {@code P·dh}. The bypass term is the
 * residual around the attention, {@code ⟨ḡ_t(m), x_s(m)⟩}, plus the source's writes at or above {@code m}, plus
 * the whole edge when the target lies below {@code m}. The backend also returns each edge as the sum of its writes'
 * direct effects, so that a caller can check {@code Σ_h + bypass = edge}.
 */
public final class HeadLoadingSweep {

    /** Upper bound on the floats of one block of gathered per-edge rows. */
    static final long GATHER_BUDGET = 1L << 22;

    /**
     * Pairings go through dense products when the edges are at least 1/DENSE_RATIO of all (lane, source) pairs:
     * a product costs ~2 flops per pair and element at matmul speed, a gather ~16 bytes per edge and element at memory
     * speed (measured on perf16: 72,706 edges of 1,094 × 1,200 pairs, 20 s gathered).
     */
    static final long DENSE_RATIO = 160;

    private HeadLoadingSweep() {
    }

    /**
     * @param manager owns temporaries, released before this returns
     * @param cache   keeps the sources' forward sweep for the next call with the same sources (null: sweep as it
     *                goes): a graph's edges are split in batches of targets against one set of sources
     * @throws CircuitTracerException INVALID_ARGUMENT for seeds, writes or edges outside the model, prompt or batch
     */
    public static HeadLoadings run(NDManager manager, FrozenTransformer model, LinearizationSpec spec, VjpSeeds targets,
                                   SourceWrites sources, int[] edgeTargets, int[] edgeSources, SourceSweepCache cache) {
        validate(model, spec, targets, sources, edgeTargets, edgeSources);
        int layers = model.layers().size();
        int heads = model.layers().isEmpty() ? 0 : model.layers().get(0).attention().heads();
        for (FrozenLayer layer : model.layers()) {
            if (layer.attention().heads() != heads) {
                throw new CircuitTracerException(org.circuittracer.spi.StandardErrorCode.UNSUPPORTED_ARCHITECTURE,
                        "Head loadings need the same number of heads in every layer; this model has "
                                + heads + " and " + layer.attention().heads() + ".");
            }
        }
        int edges = edgeTargets.length;
        int positions = targets.positionBound();
        int[] targetLayer = targets.depths(layers);
        int top = Math.min(layers - 1, java.util.Arrays.stream(targetLayer).max().orElse(0));
        float[] loadings = new float[edges * layers * heads];
        float[] bypass = new float[edges * layers];
        float[] totals = new float[edges];
        try (NDManager scope = manager.newSubManager()) {
            Map<Integer, NDArray> mids = new HashMap<>();
            VjpResult gradients = AdjointSweep.recordingMids(scope, model, spec, targets, mids);
            WriteEffects effects = WriteEffects.of(scope, gradients, sources, positions);
            for (int e = 0; e < edges; e++) {
                totals[e] = (float) effects.sum(edgeTargets[e], edgeSources[e], Integer.MIN_VALUE);
            }
            // kept for the whole prompt, so that batches with other position bounds share it (each reads its prefix)
            int length = model.length();
            SourceSweepCache.States cached = cache == null ? null
                    : cache.states(model, sources, length, owner -> sweepSources(model, spec, sources, length, owner));
            NDArray change = cached != null ? cached.change(0) : initialChange(scope, model, sources, positions);
            for (int m = 0; m < layers; m++) {
                FrozenLayer block = model.layers().get(m);
                NDArray mid = m <= top ? mids.get(m) : null;
                NDArray next = null;
                // each layer's temporaries in their own scope: memory stays a few [S, P, d] arrays whatever the depth
                try (NDManager step = scope.newSubManager()) {
                    // a cached change goes back to the cache when the step closes; a swept one is closed below
                    step.tempAttachAll(change);
                    NDArray changeHere = cached == null || positions == length ? change
                            : change.get(new NDIndex(":, :{}", positions)); // [S, P, d]
                    NDArray attentionInput = cached != null || mid == null ? null
                            : block.ln1().forward(change, positions);
                    if (mid != null) {
                        try (NDManager layerScope = step.newSubManager()) {
                            NDArray atOutput = block.ln1Post() == null ? mid
                                    : block.ln1Post().adjoint(mid, positions);
                            NDArray z = block.attention().headGradients(atOutput, positions);    // [B, H, P·dh]
                            NDArray u;                                                           // [S, H, P·dh]
                            if (cached == null) {
                                u = block.attention().headValues(attentionInput, positions);
                                u.attach(layerScope);
                            } else {
                                NDArray kept = cached.values(m); // [S, H, T·dh], position-major in its last axis
                                layerScope.tempAttachAll(kept);
                                u = positions == length ? kept : kept.get(new NDIndex(":, :, :{}",
                                        (long) positions * block.attention().headDim()));
                            }
                            z.attach(layerScope);
                            if (atOutput != mid) {
                                atOutput.attach(layerScope);
                            }
                            float[] perHead = pairDots(layerScope, z, u, edgeTargets, edgeSources); // [E, H]
                            float[] around = pairDots(layerScope, mid.reshape(mid.getShape().get(0), 1, -1),
                                    changeHere.reshape(changeHere.getShape().get(0), 1, -1), edgeTargets,
                                    edgeSources);
                            for (int e = 0; e < edges; e++) {
                                System.arraycopy(perHead, e * heads, loadings, (e * layers + m) * heads,
                                        heads);
                                double skipped = around[e] + effects.sum(edgeTargets[e], edgeSources[e], m);
                                bypass[e * layers + m] = (float) skipped;
                            }
                        }
                    }
                    for (int e = 0; e < edges; e++) {
                        if (m > targetLayer[edgeTargets[e]]) {
                            bypass[e * layers + m] = totals[e]; // no path of the edge reaches this layer
                        }
                    }
                    if (m + 1 <= top && cached == null) {
                        // the sources' change one layer up; no edge needs it above the highest target
                        if (attentionInput == null) {
                            attentionInput = block.ln1().forward(change, positions);
                        }
                        next = nextLayer(step, model, spec, sources, block, m, change, attentionInput, positions);
                        next.attach(scope);
                    } else if (m + 1 <= top) {
                        next = cached.change(m + 1);
                    }
                }
                if (mid != null) {
                    mid.close(); // used: its layer is done
                }
                if (cached == null) {
                    change.close();
                }
                change = next;
                if (change == null) {
                    // above every target: each edge passes these layers whole
                    for (int above = m + 1; above < layers; above++) {
                        for (int e = 0; e < edges; e++) {
                            bypass[e * layers + above] = totals[e];
                        }
                    }
                    break;
                }
            }
        }
        return new HeadLoadings(edges, layers, heads, loadings, bypass, totals);
    }

    /**
     * The sources' forward sweep through every layer: {@code x_s(m)} ({@code [S, P, d]}) and its per-head values
     * ({@code [S, H, P·dh]}), owned by {@code owner}.
     */
    private static SourceSweepCache.States sweepSources(FrozenTransformer model, LinearizationSpec spec,
                                                        SourceWrites sources, int positions, NDManager owner) {
        int layers = model.layers().size();
        NDArray[] changes = new NDArray[layers];
        NDArray[] values = new NDArray[layers];
        NDArray change;
        try (NDManager step = owner.newSubManager()) {
            change = initialChange(step, model, sources, positions);
            change.attach(owner);
        }
        for (int m = 0; m < layers; m++) {
            FrozenLayer block = model.layers().get(m);
            changes[m] = change;
            // temporaries in the step (the kept change joins it until it closes), results moved to the owner
            try (NDManager step = owner.newSubManager()) {
                step.tempAttachAll(change);
                NDArray attentionInput = block.ln1().forward(change, positions);
                values[m] = block.attention().headValues(attentionInput, positions);
                values[m].attach(owner);
                if (m + 1 < layers) {
                    change = nextLayer(step, model, spec, sources, block, m, change, attentionInput, positions);
                    change.attach(owner);
                }
            }
        }
        return new SourceSweepCache.States(List.of(changes), List.of(values));
    }

    /** {@code x_s(0)}: the sources' writes at the token embeddings, {@code [S, P, d]}. */
    static NDArray initialChange(NDManager scope, FrozenTransformer model, SourceWrites sources,
                                         int positions) {
        NDArray change = scope.zeros(new Shape(sources.sources(), positions, model.width()));
        return inject(scope, change, sources, positions, HookSite.global(SiteKind.EMBED));
    }

    /** From {@code resid_pre(m)} to {@code resid_pre(m+1)}: attention, the MLP cut but for its skip, the writes at m. */
    static NDArray nextLayer(NDManager scope, FrozenTransformer model, LinearizationSpec spec,
                                     SourceWrites sources, FrozenLayer block, int m, NDArray change,
                                     NDArray attentionInput, int positions) {
        NDArray attention = block.attention().forward(attentionInput, positions);
        if (block.ln1Post() != null) {
            attention = block.ln1Post().forward(attention, positions);
        }
        NDArray mid = change.add(attention);
        NDArray written = scope.zeros(change.getShape());
        LinearMap skip = spec.skipByLayer().get(m);
        if (skip != null) {
            NDArray read = switch (spec.readSite()) {
                case RESID_MID -> mid;
                case LN2_NORMALIZED -> block.ln2().withoutGain().forward(mid, positions);
                case MLP_IN -> block.ln2().forward(mid, positions);
                default -> throw new IllegalStateException("not a read site: " + spec.readSite());
            };
            written = written.add(skip.apply(read));
        }
        written = inject(scope, written, sources, positions, HookSite.of(spec.writeSite(), m));
        if (spec.writeSite() == SiteKind.MLP_OUT_RAW && block.ln2Post() != null) {
            written = block.ln2Post().forward(written, positions);
        }
        NDArray next = mid.add(written);
        next.attach(scope);
        return next;
    }

    /** {@code change} plus every write at {@code site} (at positions below the bound) in its owner's row. */
    private static NDArray inject(NDManager scope, NDArray change, SourceWrites sources, int positions, HookSite site) {
        int[] owners = sources.owners();
        int[] at = sources.positions();
        List<HookSite> sites = sources.sites();
        int width = (int) change.getShape().get(2);
        float[] added = null;
        float[] all = null;
        for (int w = 0; w < sources.writes(); w++) {
            if (!sites.get(w).equals(site) || at[w] >= positions) {
                continue;
            }
            if (added == null) {
                added = new float[(int) (change.getShape().get(0) * positions * width)];
                all = sources.vectors().toType(DataType.FLOAT32, false).toFloatArray();
            }
            int base = (owners[w] * positions + at[w]) * width;
            for (int i = 0; i < width; i++) {
                added[base + i] += all[w * width + i];
            }
        }
        if (added == null) {
            return change;
        }
        NDArray sum = change.add(scope.create(added, change.getShape()));
        sum.attach(scope);
        return sum;
    }

    /**
     * {@code out[e·K + k] = ⟨left[targets[e], k], right[sources[e], k]⟩} for {@code left [B, K, n]} and
     * {@code right [S, K, n]}, in blocks of edges.
     */
    static float[] pairDots(NDManager scope, NDArray left, NDArray right, int[] targets, int[] sources) {
        long k = left.getShape().get(1);
        long n = left.getShape().get(2);
        int edges = targets.length;
        float[] out = new float[(int) (edges * k)];
        long lanes = left.getShape().get(0);
        long rows = right.getShape().get(0);
        if ((long) edges * DENSE_RATIO >= lanes * rows) {
            // many edges per (lane, source) pair: every pair by one matrix product per k (compute-bound), then the
            // edges picked; gathering rows per edge would move k·n floats twice for each of them (memory-bound)
            for (int j = 0; j < k; j++) {
                try (NDManager part = scope.newSubManager()) {
                    NDArray l = left.get(new NDIndex(":, {}, :", j));
                    NDArray r = right.get(new NDIndex(":, {}, :", j));
                    l.attach(part);
                    r.attach(part);
                    float[] all = l.matMul(r.transpose()).toFloatArray(); // [lanes, rows]
                    for (int e = 0; e < edges; e++) {
                        out[(int) (e * k + j)] = all[(int) (targets[e] * rows + sources[e])];
                    }
                }
            }
            return out;
        }
        int block = (int) Math.max(1, Math.min(edges, GATHER_BUDGET / Math.max(1, k * n)));
        for (int from = 0; from < edges; from += block) {
            int to = Math.min(edges, from + block);
            try (NDManager part = scope.newSubManager()) {
                NDArray l = left.get(part.create(java.util.Arrays.copyOfRange(targets, from, to)));
                NDArray r = right.get(part.create(java.util.Arrays.copyOfRange(sources, from, to)));
                l.attach(part);
                r.attach(part);
                float[] dots = l.mul(r).sum(new int[] {2}).toFloatArray();
                System.arraycopy(dots, 0, out, (int) (from * k), dots.length);
            }
        }
        return out;
    }

    /**
     * The direct effect of every write on every lane, {@code ⟨gradient at the write's site and position, vector⟩},
     * with the writes grouped by source.
     */
    private record WriteEffects(float[] effects, int writes, int[] layerOf, int[][] writesOf) {

        static WriteEffects of(NDManager scope, VjpResult gradients, SourceWrites sources, int positions) {
            int writes = sources.writes();
            int lanes = (int) gradients.embeddingGradient().getShape().get(0);
            float[] effects = new float[lanes * writes];
            int[] layerOf = new int[writes];
            int[] owners = sources.owners();
            int[] at = sources.positions();
            List<HookSite> sites = sources.sites();
            Map<Integer, List<Integer>> bySite = new HashMap<>();
            int[] count = new int[sources.sources()];
            for (int w = 0; w < writes; w++) {
                layerOf[w] = sources.atEmbedding(w) ? -1 : sites.get(w).layer().getAsInt();
                count[owners[w]]++;
                if (at[w] < positions) {
                    bySite.computeIfAbsent(layerOf[w], l -> new java.util.ArrayList<>()).add(w);
                }
            }
            int[][] writesOf = new int[sources.sources()][];
            for (int s = 0; s < writesOf.length; s++) {
                writesOf[s] = new int[count[s]];
                count[s] = 0;
            }
            for (int w = 0; w < writes; w++) {
                writesOf[owners[w]][count[owners[w]]++] = w;
            }
            NDArray vectors = sources.vectors().toType(DataType.FLOAT32, true); // a copy: the caller's array stays theirs
            vectors.attach(scope);
            for (Map.Entry<Integer, List<Integer>> entry : bySite.entrySet()) {
                NDArray gradient = entry.getKey() < 0 ? gradients.embeddingGradient()
                        : gradients.writeSiteGradient(entry.getKey()).orElse(null);
                if (gradient == null) {
                    continue; // exactly zero: the site lies at or above every target
                }
                int[] ws = entry.getValue().stream().mapToInt(Integer::intValue).toArray();
                try (NDManager part = scope.newSubManager()) {
                    long[] index = java.util.Arrays.stream(ws).mapToLong(w -> w).toArray();
                    long[] pos = java.util.Arrays.stream(ws).mapToLong(w -> at[w]).toArray();
                    NDArray byPosition = gradient.transpose(1, 0, 2).get(part.create(pos)); // [W_s, B, d]
                    NDArray rows = vectors.get(part.create(index)).expandDims(1);           // [W_s, 1, d]
                    byPosition.attach(part);
                    rows.attach(part);
                    float[] dots = byPosition.mul(rows).sum(new int[] {2}).toFloatArray();  // [W_s, B]
                    for (int j = 0; j < ws.length; j++) {
                        for (int lane = 0; lane < lanes; lane++) {
                            effects[lane * writes + ws[j]] = dots[j * lanes + lane];
                        }
                    }
                }
            }
            return new WriteEffects(effects, writes, layerOf, writesOf);
        }

        /** The summed effect on {@code lane} of {@code source}'s writes at layers ≥ {@code fromLayer} (embeddings: −1). */
        double sum(int lane, int source, int fromLayer) {
            double sum = 0;
            for (int w : writesOf[source]) {
                if (layerOf[w] >= fromLayer) {
                    sum += effects[lane * writes + w];
                }
            }
            return sum;
        }
    }

    private static void validate(FrozenTransformer model, LinearizationSpec spec, VjpSeeds targets,
                                 SourceWrites sources, int[] edgeTargets, int[] edgeSources) {
        validateWrites(model, spec, sources);
        if (edgeTargets.length != edgeSources.length) {
            throw CircuitTracerException.invalidArgument("Edges need as many targets as sources; got "
                    + edgeTargets.length + " and " + edgeSources.length + ".");
        }
        for (int e = 0; e < edgeTargets.length; e++) {
            if (edgeTargets[e] < 0 || edgeTargets[e] >= targets.lanes()) {
                throw CircuitTracerException.invalidArgument("Edge " + e + " names target lane " + edgeTargets[e]
                        + ", but the batch has lanes 0 to " + (targets.lanes() - 1) + ".");
            }
            if (edgeSources[e] < 0 || edgeSources[e] >= sources.sources()) {
                throw CircuitTracerException.invalidArgument("Edge " + e + " names source " + edgeSources[e]
                        + ", but there are sources 0 to " + (sources.sources() - 1) + ".");
            }
        }
    }

    /** The writes' width, sites and positions against the model and the prompt. */
    static void validateWrites(FrozenTransformer model, LinearizationSpec spec, SourceWrites sources) {
        int layers = model.layers().size();
        if (sources.vectors().getShape().get(1) != model.width()) {
            throw CircuitTracerException.invalidArgument("Source write vectors have width "
                    + sources.vectors().getShape().get(1) + ", but the model's residual width is " + model.width() + ".");
        }
        List<HookSite> sites = sources.sites();
        int[] at = sources.positions();
        for (int w = 0; w < sources.writes(); w++) {
            HookSite site = sites.get(w);
            boolean writeSite = site.kind() == spec.writeSite() && site.layer().getAsInt() < layers;
            if (!writeSite && site.kind() != SiteKind.EMBED) {
                throw CircuitTracerException.invalidArgument("Write " + w + " enters at " + site + "; sources write at "
                        + "hook_embed or at " + spec.writeSite().hookName() + " of layers 0 to " + (layers - 1) + ".");
            }
            if (at[w] >= model.length()) {
                throw CircuitTracerException.invalidArgument("Write " + w + " is at position " + at[w]
                        + ", but the prompt has " + model.length() + " positions.");
            }
        }
    }
}
