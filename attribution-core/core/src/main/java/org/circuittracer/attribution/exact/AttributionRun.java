package org.circuittracer.attribution.exact;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.circuittracer.attribution.io.EdgeMemory;
import org.circuittracer.attribution.replacement.ActiveFeatures;
import org.circuittracer.attribution.replacement.ReplacementActivations;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.attribution.targets.LogitTarget;
import org.circuittracer.attribution.targets.LogitTargets;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionPhase;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.SeedSite;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.model.VjpResult;
import org.circuittracer.spi.model.VjpSeeds;

/** One attribution (docs/reference/algorithm.md §3.2 phases 0-5), with its own native memory scope. Not thread-safe; used once. */
final class AttributionRun {

    private final AttributionRequest request;
    private final ReplacementModel replacement;
    private final TokenSequence tokens;
    private final Progress progress;
    private final NDManager manager;
    private final int width;
    private final int layers;

    private LinearizedModel linear;
    private SourceVectors sources;
    private ActiveFeatures active;
    private final EdgeMemory memory = EdgeMemory.fromSystem();
    private final EdgeRows rows = new EdgeRows(memory);

    AttributionRun(AttributionRequest request, ReplacementModel replacement, TokenSequence tokens, Progress progress,
                   NDManager manager) {
        this.request = request;
        this.replacement = replacement;
        this.tokens = tokens;
        this.progress = progress;
        this.manager = manager;
        this.width = request.model().config().modelWidth();
        this.layers = request.model().config().layers();
    }

    AttributionGraph execute() {
        TransformerModel model = request.model();
        SparseDictionary dictionary = request.dictionary();

        // Phase 0 and 1: one clean forward pass records the frozen values and every site the precomputation needs.
        progress.begin(AttributionPhase.PRECOMPUTE, 1);
        linear = model.linearize(manager, tokens, replacement.linearizationSpec());
        try {
            ReplacementActivations activations = replacement.activations(manager, tokens, linear.clean());
            active = activations.active();
            List<LogitTarget> targets = LogitTargets.build(request.targets(), activations.lastLogits(), model, manager);
            sources = SourceVectors.build(dictionary, active, activations.errors(), activations.tokenVectors());
            int cap = request.maxFeatureNodes() == 0 ? active.size() : Math.min(request.maxFeatureNodes(), active.size());
            EdgeBound.check(EdgeBound.rowBounds(active, layers, tokens.length()), cap, targets.size(), sources.columns());
            progress.step();
            progress.end();
            // the linearisation was recorded by the same forward pass
            progress.begin(AttributionPhase.LINEARIZE, 0);
            progress.end();

            logitRows(targets);
            int[] selected = featureRows(targets);

            progress.begin(AttributionPhase.ASSEMBLE, 1);
            AttributionGraph graph = GraphAssembly.assemble(model.config(), tokens,
                    model.tokenizer().decode(tokens.ids(), false), active, selected, targets, rows,
                    model.tokenizer().vocabularySize(), dictionary.scan(), memory);
            progress.step();
            progress.end();
            return graph;
        } finally {
            rows.close();
            linear.close();
        }
    }

    /** Phase 3: one lane per target, seeded at {@code unembed.hook_in}, position T−1. */
    private void logitRows(List<LogitTarget> targets) {
        int batch = request.batchSize();
        int k = targets.size();
        int logitNodeStart = sources.columns();
        progress.begin(AttributionPhase.LOGIT_ROWS, (k + batch - 1) / batch);
        for (int from = 0; from < k; from += batch) {
            int n = Math.min(batch, k - from);
            List<SeedSite> sites = new ArrayList<>(n);
            int[] nodes = new int[n];
            float[] vectors = new float[n * width];
            for (int i = 0; i < n; i++) {
                sites.add(new SeedSite.Unembedding(tokens.length() - 1));
                nodes[i] = logitNodeStart + from + i;
                System.arraycopy(targets.get(from + i).direction(), 0, vectors, i * width, width);
            }
            computeRows(sites, vectors, nodes);
            progress.step();
        }
        progress.end();
    }

    /**
     * Phase 4: feature rows, all of them in active order, or the {@code maxFeatureNodes} most influential ones chosen
     * by re-ranking every {@code updateInterval} batches. Returns the selected active indices, ascending.
     */
    private int[] featureRows(List<LogitTarget> targets) {
        int nAct = active.size();
        int cap = request.maxFeatureNodes() == 0 ? nAct : Math.min(request.maxFeatureNodes(), nAct);
        int batch = request.batchSize();
        progress.begin(AttributionPhase.FEATURE_ROWS, (cap + batch - 1) / batch);
        boolean[] visited = new boolean[nAct];
        if (cap == nAct) {
            int[] all = new int[nAct];
            Arrays.setAll(all, i -> i);
            featureBatches(all, visited);
        } else {
            float[] weights = new float[targets.size()];
            for (int k = 0; k < weights.length; k++) {
                weights[k] = targets.get(k).weight();
            }
            int columns = sources.columns() + targets.size();
            int done = 0;
            while (done < cap) {
                double[] influence = FeatureRanking.partialInfluence(rows, weights, columns, sources.columns());
                int[] order = FeatureRanking.rank(influence, nAct);
                int want = Math.min(request.updateInterval() * batch, cap - done);
                int[] pending = new int[want];
                int count = 0;
                for (int i = 0; i < order.length && count < want; i++) {
                    if (!visited[order[i]]) {
                        pending[count++] = order[i];
                    }
                }
                // within a round, active order: batches then span few layers and positions, so the VJPs stop lower
                int[] round = Arrays.copyOf(pending, count);
                Arrays.sort(round);
                featureBatches(round, visited);
                done += count;
            }
        }
        progress.end();
        int[] selected = new int[cap];
        int j = 0;
        for (int i = 0; i < nAct; i++) {
            if (visited[i]) {
                selected[j++] = i;
            }
        }
        return selected;
    }

    /** Rows of {@code features} in order, in batches; each seeded with its raw encoder row at its read site. */
    private void featureBatches(int[] features, boolean[] visited) {
        int batch = request.batchSize();
        SparseDictionary dictionary = request.dictionary();
        for (int from = 0; from < features.length; from += batch) {
            int n = Math.min(batch, features.length - from);
            int[] chunk = Arrays.copyOfRange(features, from, from + n);
            int[] seedLayers = new int[n];
            List<SeedSite> sites = new ArrayList<>(n);
            float[] vectors = new float[n * width];
            for (int i = 0; i < n; i++) {
                seedLayers[i] = active.layer(chunk[i]);
                sites.add(new SeedSite.ReadSite(seedLayers[i], active.position(chunk[i])));
            }
            // encoder rows, gathered per layer
            for (int layer = 0; layer < layers; layer++) {
                int l = layer;
                int[] lanes = IntStream.range(0, n).filter(i -> seedLayers[i] == l).toArray();
                if (lanes.length == 0) {
                    continue;
                }
                int[] ids = Arrays.stream(lanes).map(i -> active.feature(chunk[i])).toArray();
                try (NDManager scope = manager.newSubManager()) {
                    float[] encoder = dictionary.encoderRows(scope, layer, ids).toFloatArray();
                    for (int j = 0; j < lanes.length; j++) {
                        System.arraycopy(encoder, j * width, vectors, lanes[j] * width, width);
                    }
                }
            }
            computeRows(sites, vectors, chunk);
            for (int i : chunk) {
                visited[i] = true;
            }
            progress.step();
        }
    }

    /**
     * Upper bound on {@code lanes × P × d × (L + 1)} of one VJP call, P the batch's position bound: the floats of its
     * result ({@code [B, P, d]} per write site and at the embeddings), which on long prompts dominates native memory
     * (2.5 GiB for 256 lanes on 8,192 tokens of a 4-layer, 64-wide model; the backend's sweep holds a few more such
     * arrays, its attention adjoint only {@code O(H·P² + B·P·d)} since issue 16). Larger batches are split into
     * sub-batches (512 MiB of results each: 51 lanes there; fewer, larger sub-batches amortise a long prompt's
     * per-call pattern work); lanes are independent, so rows are unchanged (docs/reference/algorithm.md §3.11).
     */
    static final long GRADIENT_BUDGET = 1L << 27;

    private void computeRows(List<SeedSite> sites, float[] vectors, int[] nodes) {
        int n = nodes.length;
        long bound = 1 + sites.stream().mapToInt(SeedSite::position).max().orElse(0);
        long perLane = Math.max(1, bound * width * (layers + 1L));
        int lanes = (int) Math.max(1, Math.min(n, GRADIENT_BUDGET / perLane));
        if (lanes < n) {
            for (int from = 0; from < n; from += lanes) {
                int to = Math.min(n, from + lanes);
                computeRowsAtOnce(sites.subList(from, to), Arrays.copyOfRange(vectors, from * width, to * width),
                        Arrays.copyOfRange(nodes, from, to));
            }
        } else {
            computeRowsAtOnce(sites, vectors, nodes);
        }
    }

    private void computeRowsAtOnce(List<SeedSite> sites, float[] vectors, int[] nodes) {
        int n = nodes.length;
        try (NDManager scope = manager.newSubManager()) {
            NDArray seedVectors = scope.create(vectors, new Shape(n, width));
            VjpResult result = linear.vjp(scope, new VjpSeeds(sites, seedVectors));
            RowBuilder[] builders = new RowBuilder[n];
            for (int i = 0; i < n; i++) {
                builders[i] = new RowBuilder();
            }
            sources.contract(scope, result, builders);
            for (int i = 0; i < n; i++) {
                if (builders[i].hasNonFinite()) {
                    throw new CircuitTracerException(StandardErrorCode.PLUGIN_FAILURE, "Backend '"
                            + request.model().backendName() + "' returned non-finite gradients for an attribution "
                            + "target; the model or dictionary weights may hold NaN or infinity.");
                }
                rows.add(nodes[i], builders[i].columns(), builders[i].weights());
            }
        }
    }
}
