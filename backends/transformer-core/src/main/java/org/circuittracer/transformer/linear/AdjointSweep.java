package org.circuittracer.transformer.linear;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.LinearMap;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.SeedSite;
import org.circuittracer.spi.model.VjpResult;
import org.circuittracer.spi.model.VjpSeeds;
import org.circuittracer.spi.site.SiteKind;

/**
 * The vector-Jacobian product of a {@link FrozenTransformer}: the reverse sweep of docs/reference/algorithm.md §2.8, batched over
 * lanes and truncated to the layers below the highest seed and the positions up to the last seeded one. Every MLP is
 * cut (only skip maps carry gradient through it), so the gradient read at a write site is the direct effect.
 *
 * <p><b>Causal truncation per lane group.</b> A lane seeded at position {@code p} and layer {@code ℓ} has exactly zero
 * gradient at later positions and at or above {@code ℓ}. The batch is cut into runs of consecutive lanes (batches come
 * in (layer, position) order, so runs are tight) and each run is swept on its own bound {@code P_s} and from its own
 * top layer, when a cost model says that pays for the extra native calls and for writing the runs into the
 * {@code [B, P, d]} result. The result is the same as one sweep over the whole batch, to float rounding.
 */
public final class AdjointSweep {

    /** Fixed cost of one layer of one run (about twenty native calls), in multiply-adds at ~100 GFLOP/s. */
    private static final double LAYER_OVERHEAD = 2e7;

    private AdjointSweep() {
    }

    /**
     * @param manager owns the returned arrays
     * @throws CircuitTracerException INVALID_ARGUMENT for seeds outside the model or the prompt, or of the wrong width
     */
    public static VjpResult run(NDManager manager, FrozenTransformer model, LinearizationSpec spec, VjpSeeds seeds) {
        validate(model, seeds);
        return run(manager, model, spec, seeds, runs(model, seeds.depths(model.layers().size()), seeds.positions()));
    }

    /**
     * The sweep cut into the given runs of lanes ({@code cuts = {0, c1, …, B}}, ascending); package-private so that
     * tests can compare any grouping with the single sweep ({@code {0, B}}).
     */
    static VjpResult run(NDManager manager, FrozenTransformer model, LinearizationSpec spec, VjpSeeds seeds,
                         int[] cuts) {
        validate(model, seeds);
        int lanes = seeds.lanes();
        if (cuts.length < 2 || cuts[0] != 0 || cuts[cuts.length - 1] != lanes) {
            throw new IllegalArgumentException("cuts must run from 0 to " + lanes + ": " + Arrays.toString(cuts));
        }
        int positions = seeds.positionBound();
        int[] seedDepths = seeds.depths(model.layers().size());
        int[] seedPositions = seeds.positions();
        try (NDManager scope = manager.newSubManager()) {
            // a float32 copy owned by the scope, so that everything derived from it is freed with the scope
            NDArray vectors = seeds.vectors().toType(DataType.FLOAT32, true);
            vectors.attach(scope);
            if (cuts.length == 2) {
                Sweep whole = sweep(scope, model, spec, vectors, seedDepths, seedPositions, positions, null);
                whole.writes.values().forEach(g -> g.attach(manager));
                whole.embedding.attach(manager);
                return new VjpResult(whole.writes, whole.embedding, positions);
            }
            List<Sweep> parts = new ArrayList<>();
            TreeSet<Integer> written = new TreeSet<>();
            for (int r = 0; r + 1 < cuts.length; r++) {
                int from = cuts[r];
                int to = cuts[r + 1];
                if (to <= from) {
                    throw new IllegalArgumentException("cuts must ascend: " + Arrays.toString(cuts));
                }
                NDArray part = vectors.get(new NDIndex("{}:{}", from, to));
                part.attach(scope);
                int[] depths = Arrays.copyOfRange(seedDepths, from, to);
                int[] at = Arrays.copyOfRange(seedPositions, from, to);
                Sweep sweep = sweep(scope, model, spec, part, depths, at, Arrays.stream(at).max().orElse(0) + 1, null);
                written.addAll(sweep.writes.keySet());
                parts.add(sweep);
            }
            // each run's [n_s, P_s, d] into the batch's [B, P, d]; zero past a run's bound and at layers it cannot reach
            Shape shape = new Shape(lanes, positions, model.width());
            Map<Integer, NDArray> writes = new HashMap<>();
            for (int layer : written) {
                NDArray out = manager.zeros(shape);
                for (int r = 0; r < parts.size(); r++) {
                    NDArray g = parts.get(r).writes.get(layer);
                    if (g != null) {
                        out.set(new NDIndex("{}:{}, :{}", cuts[r], cuts[r + 1], g.getShape().get(1)), g);
                    }
                }
                writes.put(layer, out);
            }
            NDArray embedding = manager.zeros(shape);
            for (int r = 0; r < parts.size(); r++) {
                NDArray g = parts.get(r).embedding;
                embedding.set(new NDIndex("{}:{}, :{}", cuts[r], cuts[r + 1], g.getShape().get(1)), g);
            }
            return new VjpResult(writes, embedding, positions);
        }
    }

    /** Gradients of one run, owned by the sweep's scope: write site by layer, and at the embeddings. */
    private record Sweep(Map<Integer, NDArray> writes, NDArray embedding) {
    }

    /**
     * The whole batch in one sweep that also records, by layer, the gradient at {@code hook_resid_mid} (what
     * {@link HeadLoadingSweep} splits over heads); every array owned by {@code manager}. Layers above every seed are
     * absent from both maps (exactly zero there).
     *
     * @param mids receives layer → {@code [B, P, d]}
     */
    static VjpResult recordingMids(NDManager manager, FrozenTransformer model, LinearizationSpec spec, VjpSeeds seeds,
                                   Map<Integer, NDArray> mids) {
        validate(model, seeds);
        NDArray vectors = seeds.vectors().toType(DataType.FLOAT32, true);
        vectors.attach(manager);
        Sweep whole = sweep(manager, model, spec, vectors, seeds.depths(model.layers().size()), seeds.positions(),
                seeds.positionBound(), mids);
        return new VjpResult(whole.writes, whole.embedding, seeds.positionBound());
    }

    /**
     * The reverse sweep of {@code n} lanes on {@code positions} positions; results owned by {@code scope}.
     *
     * @param seedDepths each lane's {@link VjpSeeds#depths depth}: its read-site layer, or the model's layer count for
     *                   a logit-direction seed at the final normalised residual
     * @param mids null, or receives the gradient at each swept layer's {@code hook_resid_mid} (owned by {@code scope})
     */
    private static Sweep sweep(NDManager scope, FrozenTransformer model, LinearizationSpec spec, NDArray vectors,
                               int[] seedDepths, int[] seedPositions, int positions, Map<Integer, NDArray> mids) {
        int layers = model.layers().size();
        int lanes = seedDepths.length;
        // write sites below `top` can matter; the sweep starts at the highest seeded layer to inject its seed there
        int top = Arrays.stream(seedDepths).max().orElse(0);
        int start = Math.min(top, layers - 1);
        // ḡ(r_L): logit-direction seeds enter through the final norm, whose gain is applied to the [n, d] seeds
        // rather than to the [n, P, d] injection
        FrozenNorm finalNorm = model.finalNorm();
        NDArray unembedVectors = finalNorm.gain() == null ? vectors : vectors.mul(finalNorm.gain());
        NDArray unembed = injection(scope, unembedVectors, seedDepths, seedPositions, layers, positions);
        NDArray residual = null; // null: exactly zero (feature seeds enter at their own layer, below)
        if (unembed != null) {
            residual = finalNorm.withoutGain().adjoint(unembed, positions);
            unembed.close();
        }
        Map<Integer, NDArray> writes = new HashMap<>();
        for (int layer = start; layer >= 0; layer--) {
            FrozenLayer block = model.layers().get(layer);
            NDArray previous = residual;
            boolean keepPrevious = false;
            // each layer's temporaries in their own scope: memory stays a few [n, P, d] arrays whatever the depth
            try (NDManager step = scope.newSubManager()) {
                NDArray out = null;
                NDArray input = null; // ḡ(x_ℓ) at the dictionary's read site
                if (residual != null) {
                    step.tempAttachAll(residual);
                    out = spec.writeSite() == SiteKind.MLP_OUT_RAW && block.ln2Post() != null
                            ? block.ln2Post().adjoint(residual, positions) : residual;
                    LinearMap skip = spec.skipByLayer().get(layer);
                    if (skip != null) {
                        input = skip.applyAdjoint(out);
                    }
                }
                NDArray seeded = injection(step, vectors, seedDepths, seedPositions, layer, positions);
                if (seeded != null) {
                    input = input == null ? seeded : input.add(seeded);
                }
                if (input == null && residual == null) {
                    continue; // nothing has reached this layer yet (it lies above every seed of the run)
                }
                NDArray read = input == null ? null : readSiteAdjoint(block, spec.readSite(), input, positions);
                NDArray mid = read == null ? residual : residual == null ? read : residual.add(read);
                if (mids != null) {
                    mid.attach(scope);
                    mids.put(layer, mid);
                }
                NDArray attention = block.ln1Post() == null ? mid : block.ln1Post().adjoint(mid, positions);
                NDArray attentionInput = block.attention().adjoint(attention, positions);
                residual = mid.add(block.ln1().adjoint(attentionInput, positions));
                residual.attach(scope);
                keepPrevious = false;
                if (layer < top && out != null) {
                    out.attach(scope);
                    writes.put(layer, out);
                    keepPrevious = out == previous;
                }
                keepPrevious |= mids != null && mid == previous;
            }
            if (previous != null && !keepPrevious) {
                previous.close(); // no longer needed: free it now rather than with the whole VJP
            }
        }
        if (residual == null) {
            residual = scope.zeros(new Shape(lanes, positions, model.width()));
        }
        return new Sweep(writes, residual);
    }

    private static NDArray readSiteAdjoint(FrozenLayer block, SiteKind readSite, NDArray gradient, int positions) {
        return switch (readSite) {
            case RESID_MID -> gradient;
            case LN2_NORMALIZED -> block.ln2().withoutGain().adjoint(gradient, positions);
            case MLP_IN -> block.ln2().adjoint(gradient, positions);
            default -> throw new IllegalArgumentException("not a read site: " + readSite);
        };
    }

    /**
     * {@code [B, P, d]} with the seed vector at (lane, position) for the lanes seeded at {@code layer}, owned by
     * {@code owner}; null if none.
     */
    private static NDArray injection(NDManager owner, NDArray vectors, int[] seedDepths, int[] seedPositions,
                                     int layer, int positions) {
        float[] mask = new float[seedDepths.length * positions];
        boolean any = false;
        for (int lane = 0; lane < seedDepths.length; lane++) {
            if (seedDepths[lane] == layer) {
                mask[lane * positions + seedPositions[lane]] = 1f;
                any = true;
            }
        }
        if (!any) {
            return null;
        }
        NDArray oneHot = owner.create(mask, new Shape(seedDepths.length, positions, 1));
        NDArray rows = vectors.expandDims(1);
        rows.attach(owner);
        return oneHot.mul(rows);
    }

    /**
     * Where to cut a batch into runs of consecutive lanes: the cheapest partition under a cost model of the sweep
     * (per run: projections and norms ∝ lanes × P_s × layers, the pattern ∝ lanes × P_s² × layers, producing the
     * pattern ∝ P_s² × layers, a fixed cost per layer, and writing into the batch's result), by dynamic programming over the cut points; {@code {0, B}} when
     * one sweep is as cheap.
     *
     * @param seedDepths each lane's {@link VjpSeeds#depths depth} (the model's layer count for the unembedding)
     */
    static int[] runs(FrozenTransformer model, int[] seedDepths, int[] seedPositions) {
        int n = seedDepths.length;
        if (n < 2 || model.layers().isEmpty()) {
            return new int[] {0, n};
        }
        int layers = model.layers().size();
        FrozenAttention attention = model.layers().get(0).attention();
        double d = model.width();
        double heads = attention.heads();
        double headDim = attention.headDim();
        double perPosition = 2 * d * headDim * (heads + attention.kvHeads()) + 12 * d;
        double perPair = 2 * heads * headDim;
        // producing the pattern once per run and layer: about half the P_s² square per head (causal blocks)
        double perEntry = heads * attention.pattern().entryCost() / 2;
        int bound = Arrays.stream(seedPositions).max().orElse(0) + 1;
        double[] best = new double[n + 1];
        int[] from = new int[n + 1];
        Arrays.fill(best, Double.POSITIVE_INFINITY);
        best[0] = 0;
        for (int end = 1; end <= n; end++) {
            int maxPosition = 0;
            int maxLayer = 0;
            for (int begin = end - 1; begin >= 0; begin--) {
                maxPosition = Math.max(maxPosition, seedPositions[begin] + 1);
                maxLayer = Math.max(maxLayer, seedDepths[begin]);
                int size = end - begin;
                double swept = Math.min(maxLayer, layers - 1) + 1;
                double square = (double) maxPosition * maxPosition;
                double cost = swept * (size * (maxPosition * perPosition + square * perPair) + square * perEntry
                        + LAYER_OVERHEAD) + 2 * size * (double) bound * d * (maxLayer + 1);
                if (best[begin] + cost < best[end]) {
                    best[end] = best[begin] + cost;
                    from[end] = begin;
                }
            }
        }
        int top = Arrays.stream(seedDepths).max().orElse(0);
        double square = (double) bound * bound;
        double single = (Math.min(top, layers - 1) + 1) * (n * (bound * perPosition + square * perPair)
                + square * perEntry + LAYER_OVERHEAD);
        if (best[n] >= single) {
            return new int[] {0, n};
        }
        List<Integer> cuts = new ArrayList<>();
        for (int end = n; end > 0; end = from[end]) {
            cuts.add(0, end);
        }
        cuts.add(0, 0);
        return cuts.stream().mapToInt(Integer::intValue).toArray();
    }

    private static void validate(FrozenTransformer model, VjpSeeds seeds) {
        int layers = model.layers().size();
        for (int lane = 0; lane < seeds.lanes(); lane++) {
            SeedSite site = seeds.sites().get(lane);
            if (site instanceof SeedSite.ReadSite read && read.layer() >= layers) {
                throw invalid("Seed " + lane + " names layer " + read.layer() + ", but the model has layers 0 to "
                        + (layers - 1) + " (seed logit directions at SeedSite.Unembedding).");
            }
            if (site.position() >= model.length()) {
                throw invalid("Seed " + lane + " names position " + site.position() + ", but the prompt has "
                        + model.length() + " positions.");
            }
        }
        if (seeds.vectors().getShape().get(1) != model.width()) {
            throw invalid("Seed vectors have width " + seeds.vectors().getShape().get(1) + ", but the model's residual "
                    + "width is " + model.width() + ".");
        }
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }
}
