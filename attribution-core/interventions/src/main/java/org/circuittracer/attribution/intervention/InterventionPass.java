package org.circuittracer.attribution.intervention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.circuittracer.attribution.intervention.InterventionOptions.LayerRange;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.LinearMap;
import org.circuittracer.spi.model.Positions;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;

/**
 * The hooks of one intervened forward pass or one steered generation (docs/reference/algorithm.md §7.3-7.4), and the state they
 * share. Not reusable: build one per call.
 *
 * <p>Hooks: {@code Replace} of every attention pattern (and, with every layer constrained, every norm scale) by the
 * clean pass's value on the prompt positions; a {@code Transform} at every read site that encodes the live input,
 * records the activation cache and queues {@code (target − current) × decoder row} into the pending buffer {@code D[m]}
 * of each output layer {@code m} the intervened feature writes to; a {@code Transform} at every write site that, for
 * {@code m ∈ C}, replaces the output by the clean output plus {@code skip(x) − skip(x_clean)}, and, for {@code m ∈ R},
 * adds {@code D[m]}. In a generation the transforms are called once per pass (the prompt pass first, then one row per
 * step) and count their calls to know which absolute positions a pass computes; freezes and constraints apply to the
 * prompt pass only, and steps apply the open-ended interventions against the live activation.
 */
final class InterventionPass {

    private static final Set<SiteKind> SCALE_KINDS = Set.of(SiteKind.LN1_SCALE, SiteKind.LN1_POST_SCALE,
            SiteKind.LN2_SCALE, SiteKind.LN2_POST_SCALE, SiteKind.FINAL_SCALE);

    private final ReplacementModel replacement;
    private final SparseDictionary dictionary;
    private final InterventionPlan plan;
    private final Optional<LayerRange> constrained;
    private final boolean freezePatterns;
    private final boolean freezeScales;
    private final boolean applyActivationFunction;
    private final boolean record;
    private final NDManager work;
    private final TokenSequence tokens;
    private final int length;
    private final int width;
    private final Set<Integer> zeroed;
    private final Map<HookSite, NDArray> clean = new HashMap<>();
    private final Map<Integer, Map<Long, Float>> cleanActivations = new HashMap<>();
    private final int[] readCalls;
    private final int[] writeCalls;
    private final float[][] pending;
    private final NDArray[] liveInputs;
    private final SparseActivations[] recorded;

    InterventionPass(ReplacementModel replacement, TokenSequence tokens, InterventionPlan plan,
                     InterventionOptions options, boolean record, NDManager work) {
        this.replacement = replacement;
        this.dictionary = replacement.dictionary();
        this.plan = plan;
        this.tokens = tokens;
        this.length = tokens.length();
        this.width = dictionary.width();
        this.zeroed = replacement.zeroedPositions(tokens);
        this.record = record;
        this.work = work;
        int layers = replacement.layers();
        options.constrained().ifPresent(c -> {
            if (c.start() < 0 || c.end() > layers || c.start() >= c.end()) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The constrained layers " + c
                        + " are not a non-empty range inside the model's layers [0, " + layers + ").");
            }
        });
        boolean active = !plan.isEmpty();
        // as the reference: without interventions nothing is recorded, frozen or constrained (a plain forward pass)
        this.constrained = active ? options.constrained() : Optional.empty();
        this.freezePatterns = active && (options.freezeAttention() || constrained.isPresent());
        this.freezeScales = active && constrained.isPresent() && constrained.get().start() == 0
                && constrained.get().end() == layers;
        this.applyActivationFunction = options.applyActivationFunction();
        this.readCalls = new int[layers];
        this.writeCalls = new int[layers];
        this.pending = new float[layers][];
        this.liveInputs = new NDArray[layers];
        this.recorded = new SparseActivations[layers];
    }

    boolean freezesPatterns() {
        return freezePatterns;
    }

    boolean freezesScales() {
        return freezeScales;
    }

    /** Runs the clean pass and records what the intervened pass replaces (nothing when nothing is frozen). */
    void recordCleanPass() {
        if (!freezePatterns) {
            return;
        }
        List<Hook> captures = new ArrayList<>();
        for (HookSite site : replacement.model().sites()) {
            boolean wanted = site.kind() == SiteKind.ATTN_PATTERN
                    || freezeScales && SCALE_KINDS.contains(site.kind())
                    || constrained.isPresent() && site.kind() == dictionary.readSite()
                    || constrained.isPresent() && site.kind() == dictionary.writeSite()
                    && constrained.get().contains(site.layer().getAsInt());
            if (wanted) {
                captures.add(new Hook.Capture(site));
            }
        }
        clean.putAll(replacement.model().forward(work, tokens, captures).captured());
    }

    /** The hooks of the intervened pass (or of every pass of a generation). */
    List<Hook> hooks() {
        List<Hook> hooks = new ArrayList<>();
        Positions prompt = Positions.range(0, length);
        for (Map.Entry<HookSite, NDArray> e : clean.entrySet()) {
            SiteKind kind = e.getKey().kind();
            if (kind == SiteKind.ATTN_PATTERN || SCALE_KINDS.contains(kind)) {
                hooks.add(new Hook.Replace(e.getKey(), prompt, e.getValue()));
            }
        }
        for (int layer = 0; layer < replacement.layers(); layer++) {
            int l = layer;
            hooks.add(new Hook.Transform(dictionary.readSites().get(l), value -> atReadSite(l, value)));
            hooks.add(new Hook.Transform(dictionary.writeSites().get(l), value -> atWriteSite(l, value)));
        }
        return hooks;
    }

    /** The activations recorded on the (prompt) pass, per layer. */
    List<SparseActivations> recorded() {
        return Arrays.asList(recorded);
    }

    private NDArray atReadSite(int layer, NDArray value) {
        int call = readCalls[layer]++;
        boolean promptPass = call == 0;
        int rows = (int) value.getShape().get(0);
        int first = promptPass ? 0 : length + call - 1;
        if (layer == 0) {
            Arrays.fill(pending, null); // a new pass: deltas never applied on the last one are dropped
        }
        boolean constrainedHere = promptPass && constrained.isPresent() && constrained.get().contains(layer);
        List<InterventionPlan.Entry> entries = promptPass ? plan.promptEntries(layer)
                : plan.generatedEntries(layer, first, rows);
        boolean keepInput = constrainedHere && dictionary.skip(layer).isPresent();
        if (entries.isEmpty() && !(promptPass && record) && !keepInput) {
            return value;
        }
        NDArray x = own(value);
        if (keepInput) {
            liveInputs[layer] = x;
        }
        Set<Integer> z = promptPass ? zeroed : Set.of();
        boolean againstClean = promptPass && constrained.isPresent();
        SparseActivations post = null;
        if (promptPass && record || !entries.isEmpty() && !againstClean) {
            post = dictionary.encodeSparse(work, layer, x, z);
        }
        if (promptPass && record) {
            recorded[layer] = applyActivationFunction ? post : preActivations(layer, x, z);
        }
        if (!entries.isEmpty()) {
            queue(layer, entries, againstClean ? cleanActivations(layer) : lookup(post), first, rows);
        }
        return value;
    }

    private NDArray atWriteSite(int layer, NDArray value) {
        int call = writeCalls[layer]++;
        boolean promptPass = call == 0;
        boolean constrainedHere = promptPass && constrained.isPresent() && constrained.get().contains(layer);
        boolean applies = !promptPass || constrained.isEmpty() || constrained.get().contains(layer);
        float[] delta = applies ? pending[layer] : null;
        pending[layer] = null;
        if (!constrainedHere && delta == null) {
            return value;
        }
        NDArray out = value;
        if (constrainedHere) {
            out = clean.get(dictionary.writeSites().get(layer));
            Optional<LinearMap> skip = dictionary.skip(layer);
            if (skip.isPresent()) {
                NDArray cleanInput = clean.get(dictionary.readSites().get(layer));
                out = out.add(skip.get().apply(liveInputs[layer]).sub(skip.get().apply(cleanInput)));
            }
        }
        if (delta != null) {
            int rows = (int) value.getShape().get(0);
            NDArray d = out.getManager().create(delta, new Shape(rows, width)).toType(out.getDataType(), false);
            out = out.add(d);
        }
        return out;
    }

    /** Queues {@code (target − current) × decoder row} for every output layer of {@code layer}'s features. */
    private void queue(int layer, List<InterventionPlan.Entry> entries, Map<Long, Float> current, int first, int rows) {
        List<Integer> features = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        List<Float> deltas = new ArrayList<>();
        for (InterventionPlan.Entry e : entries) {
            int row = e.position() - first;
            float now = current.getOrDefault(key(row, e.feature()), 0f);
            float delta = e.intervention().target(now) - now;
            if (delta != 0f) {
                features.add(e.feature());
                positions.add(row);
                deltas.add(delta);
            }
        }
        if (features.isEmpty()) {
            return;
        }
        int[] ids = features.stream().mapToInt(Integer::intValue).toArray();
        for (int m : dictionary.outputLayers(layer)) {
            float[] decoder;
            try (NDManager scope = work.newSubManager()) {
                decoder = dictionary.decoderRows(scope, layer, ids, m).toType(DataType.FLOAT32, false).toFloatArray();
            }
            float[] buffer = pending[m] == null ? new float[rows * width] : pending[m];
            pending[m] = buffer;
            for (int k = 0; k < ids.length; k++) {
                int base = positions.get(k) * width;
                float delta = deltas.get(k);
                for (int j = 0; j < width; j++) {
                    buffer[base + j] += delta * decoder[k * width + j];
                }
            }
        }
    }

    private Map<Long, Float> cleanActivations(int layer) {
        return cleanActivations.computeIfAbsent(layer, l -> lookup(dictionary.encodeSparse(work, l,
                clean.get(dictionary.readSites().get(l)), zeroed)));
    }

    private SparseActivations preActivations(int layer, NDArray x, Set<Integer> z) {
        float[] dense;
        int features = dictionary.features(layer);
        try (NDManager scope = work.newSubManager()) {
            dense = dictionary.preActivations(scope, layer, x).toType(DataType.FLOAT32, false).toFloatArray();
        }
        int rows = dense.length / features;
        List<int[]> entries = new ArrayList<>();
        for (int p = 0; p < rows; p++) {
            if (z.contains(p)) {
                continue;
            }
            for (int f = 0; f < features; f++) {
                if (dense[p * features + f] != 0f) {
                    entries.add(new int[] {p, f});
                }
            }
        }
        int[] ps = new int[entries.size()];
        int[] fs = new int[entries.size()];
        float[] vs = new float[entries.size()];
        for (int i = 0; i < ps.length; i++) {
            ps[i] = entries.get(i)[0];
            fs[i] = entries.get(i)[1];
            vs[i] = dense[ps[i] * features + fs[i]];
        }
        return new SparseActivations(layer, rows, ps, fs, vs);
    }

    private static Map<Long, Float> lookup(SparseActivations activations) {
        Map<Long, Float> map = new HashMap<>();
        for (int i = 0; i < activations.size(); i++) {
            map.put(key(activations.positionAt(i), activations.featureAt(i)), activations.valueAt(i));
        }
        return map;
    }

    private static long key(int position, int feature) {
        return ((long) position << 32) | feature;
    }

    /** A float32 copy of a pass's value owned by this call's manager (the pass closes its own arrays). */
    private NDArray own(NDArray value) {
        NDArray copy = value.toType(DataType.FLOAT32, true);
        copy.attach(work);
        return copy;
    }
}
