package org.circuittracer.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionPhase;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.attribution.Attributor;
import org.circuittracer.spi.attribution.AttributorOptions;
import org.circuittracer.spi.attribution.AttributorProvider;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.EdgeMatrix;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.ForwardResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.LinearMap;
import org.circuittracer.spi.model.Positions;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Graph-level rules for attributors, checked on real models with real dictionaries (e.g. the tiny fixture models and
 * transcoders). The central rule is the perturbation oracle of docs/reference/algorithm.md §3.5 and §9.1: in the <em>frozen</em>
 * replacement model — the model's own forward pass with attention patterns and norm scales replaced by their clean
 * values and every dictionary write site replaced by its clean value (plus the change of the skip term, for
 * dictionaries with skip connections) — adding a source's vector at its write location(s) moves every target by exactly
 * its edge:
 *
 * <ul>
 *   <li>feature source: {@code a · decoderRow(ℓ, f, m)} at the write site of every output layer {@code m} it writes;</li>
 *   <li>error source (ℓ, p): {@code e = y − decode(...)} at the write site of ℓ (zero at position 0);</li>
 *   <li>token source p: the clean {@code hook_embed[p]} added at {@code hook_embed};</li>
 *   <li>feature target: {@code ⟨encoderRow, read-site value⟩} (the pre-activation without its bias);</li>
 *   <li>logit target: {@code ⟨g, unembed.hook_in[T−1]⟩} with {@code g} the custom direction, or
 *       {@code U[:, id] − mean U} for token targets (checked when the model declares UNEMBEDDING).</li>
 * </ul>
 *
 * <p>Further rules: with every feature kept, each row sums to the effect of removing every source at once (the
 * frozen model is affine; §9.7); node order, counts and structural zeros; the active features are the dictionary's
 * encoding of the clean read sites with position 0 zeroed; salient targets follow the probabilities; determinism;
 * batch size does not change the graph; capped graphs keep the exact edges among their nodes; progress, cancellation
 * and bad targets.
 *
 * <p>Prompts must start with a special token (so that the attributor prepends nothing and {@code Z = {0}}). Skip
 * connections need {@link BackendCapability#FUNCTION_HOOKS} for the oracle. The kit needs a DJL engine on the test class
 * path.
 *
 * <pre>{@code
 * class ExactAttributorConformanceTest extends AbstractAttributorConformanceTest {
 *     protected AttributorProvider provider() { return new ExactAttributorProvider(); }
 *     protected List<Setup> setups() { return List.of(new Setup("llama-plt", llamaDir, pltDir, TokenSequence.of(0, 5, 9))); }
 *     protected TransformerModel openModel(Path dir) { return new DjlBackendProvider().create(ModelSource.of(dir)); }
 *     protected SparseDictionary openDictionary(Path dir) { return new ReferencePerLayerProvider().create(DictionarySource.of(dir)); }
 * }
 * }</pre>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class AbstractAttributorConformanceTest {

    /**
     * A model and dictionary to attribute with, and a prompt starting with a special token.
     *
     * @param name       shown in test names
     * @param model      the model directory
     * @param dictionary the dictionary directory
     * @param prompt     token ids, position 0 a special token
     */
    public record Setup(String name, Path model, Path dictionary, TokenSequence prompt) {
        public Setup {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(dictionary, "dictionary");
            Objects.requireNonNull(prompt, "prompt");
        }
    }

    /** The attributor under test. */
    protected abstract AttributorProvider provider();

    /** The pairings to check. */
    protected abstract List<Setup> setups();

    /** Opens a model directory of a setup (closed by the kit). */
    protected abstract TransformerModel openModel(Path directory);

    /** Opens a dictionary directory of a setup (closed by the kit). */
    protected abstract SparseDictionary openDictionary(Path directory);

    /** Settings for {@link AttributorProvider#create}: none by default. */
    protected AttributorOptions settings() {
        return AttributorOptions.none(provider().name());
    }

    /**
     * Allowed error of an edge relative to {@code max(|edge|, floor · largest |entry| of its row)} (see
     * {@link #relativeFloor()}), in float32.
     */
    protected double tolerance() {
        return 1e-4;
    }

    /**
     * Edges far smaller than the largest of their row are compared relative to {@code floor ×} that largest entry. Small
     * edges are often sums of much larger path terms that cancel (e.g. a token's direct path and its attention paths),
     * and float32 rounds relative to those terms: an edge of 1e-3 that cancels terms of magnitude 1 carries rounding of
     * about 1e-7, in the attributor and in the oracle alike.
     */
    protected double relativeFloor() {
        return 1e-2;
    }

    /**
     * The factor {@code ε} the oracle scales source vectors by. The frozen model is affine, so adding {@code ε·v} moves
     * a target by exactly {@code ε·A[t, s]}; a large power of two makes the move dominate the clean value, so that the
     * float32 rounding of the clean value (not the edge) does not limit the comparison of small edges.
     */
    protected float perturbationScale() {
        return 1024f;
    }

    /** Sources of each kind (features, errors, tokens) whose columns the oracle checks per setup. */
    protected int sampledSources() {
        return 8;
    }

    /** The batch size of the requests (small, so that several batches run). */
    protected int batchSize() {
        return 16;
    }

    private NDManager manager;
    private final Map<String, Opened> opened = new HashMap<>();
    private final Map<String, AttributionGraph> fullGraphs = new HashMap<>();

    private record Opened(TransformerModel model, SparseDictionary dictionary, Setup setup) {
    }

    @BeforeAll
    void openSetups() {
        manager = NDManager.newBaseManager();
        for (Setup setup : setups()) {
            opened.put(setup.name(), new Opened(openModel(setup.model()), openDictionary(setup.dictionary()), setup));
        }
    }

    @AfterAll
    void closeSetups() {
        opened.values().forEach(o -> {
            o.dictionary().close();
            o.model().close();
        });
        if (manager != null) {
            manager.close();
        }
    }

    Stream<Arguments> setupNames() {
        return setups().stream().map(s -> Arguments.of(s.name()));
    }

    // ---------------------------------------------------------------- requests

    /** Two custom targets (random directions), plus salient logits when the model can give its unembedding. */
    private AttributionTargets targets(TransformerModel model) {
        return model.capabilities().contains(BackendCapability.UNEMBEDDING)
                ? AttributionTargets.Salient.defaults() : customTargets(model, 2);
    }

    private static AttributionTargets.Custom customTargets(TransformerModel model, int count) {
        Random random = new Random(11);
        List<AttributionTargets.CustomTarget> targets = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            float[] direction = new float[model.config().modelWidth()];
            for (int j = 0; j < direction.length; j++) {
                direction[j] = (float) random.nextGaussian();
            }
            targets.add(new AttributionTargets.CustomTarget("direction " + i, 0.5f, direction));
        }
        return new AttributionTargets.Custom(targets);
    }

    private AttributionGraph attribute(Opened o, AttributionTargets targets, int maxFeatureNodes, int batch,
                                       AttributionListener listener) {
        Attributor attributor = provider().create(settings());
        return attributor.attribute(new AttributionRequest(o.model(), o.dictionary(), o.setup().prompt(), targets,
                maxFeatureNodes, batch, 2), listener);
    }

    /** The graph with every feature, default targets (computed once per setup). */
    private AttributionGraph fullGraph(Opened o) {
        return fullGraphs.computeIfAbsent(o.setup().name(),
                n -> attribute(o, targets(o.model()), 0, batchSize(), AttributionListener.NONE));
    }

    // ---------------------------------------------------------------- structure

    @ParameterizedTest(name = "{0}")
    @MethodSource("setupNames")
    void nodesFollowTheReferenceOrderAndStructuralZerosHold(String name) {
        Opened o = opened.get(name);
        AttributionGraph graph = fullGraph(o);
        int length = o.setup().prompt().length();
        int layers = o.model().config().layers();
        assertThat(graph.tokens()).as("a prompt starting with a special token is used as it is")
                .isEqualTo(o.setup().prompt());
        assertThat(graph.selected()).as("every feature kept").isEqualTo(graph.activeFeatures());
        int m = graph.selected().size();
        int k = graph.logits().size();
        assertThat(k).isPositive();
        assertThat(graph.size()).isEqualTo(m + (layers + 1) * length + k);
        for (int i = 0; i < graph.activeFeatures().size(); i++) {
            assertThat(graph.activeFeatures().get(i).activeIndex()).isEqualTo(i);
        }
        assertThat(graph.logits()).allSatisfy(l -> assertThat(l.position()).isEqualTo(length - 1));
        List<Node> nodes = graph.nodes();
        assertThat(nodes.get(graph.errorIndex(layers - 1, length - 1))).isEqualTo(new Node.ErrorNode(layers - 1, length - 1));
        assertThat(nodes.get(graph.tokenIndex(0))).isEqualTo(new Node.TokenNode(0, o.setup().prompt().get(0)));
        EdgeMatrix a = graph.adjacency();
        for (int t = m; t < graph.logitIndex(0); t++) {
            assertThat(a.rowSize(t)).as("error and token rows are empty (row %d)", t).isZero();
        }
        for (int t = 0; t < graph.size(); t++) {
            for (int i = 0; i < a.rowSize(t); i++) {
                int s = a.columnAt(t, i);
                assertThat(s).as("no logit columns, no self-edges (row %d)", t).isLessThan(graph.logitIndex(0))
                        .isNotEqualTo(t);
                assertThat(Float.isFinite(a.weightAt(t, i))).isTrue();
            }
        }
        for (int layer = 0; layer < layers; layer++) {
            int error = graph.errorIndex(layer, 0);
            for (int t = 0; t < graph.size(); t++) {
                assertThat(a.get(t, error)).as("errors at position 0 have no outgoing edges").isZero();
            }
        }
        // direct effects point forward: a feature receives only from strictly lower layers and positions ≤ its own
        for (int t = 0; t < m; t++) {
            Node.FeatureNode target = graph.selected().get(t);
            for (int i = 0; i < a.rowSize(t); i++) {
                Node source = nodes.get(a.columnAt(t, i));
                assertThat(source.position()).isLessThanOrEqualTo(target.position());
                if (source instanceof Node.FeatureNode f) {
                    assertThat(f.layer()).isLessThan(target.layer());
                } else if (source instanceof Node.ErrorNode e) {
                    assertThat(e.layer()).isLessThan(target.layer());
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("setupNames")
    void activeFeaturesAreTheDictionaryEncodingOfTheCleanReadSites(String name) {
        Opened o = opened.get(name);
        AttributionGraph graph = fullGraph(o);
        try (NDManager scope = manager.newSubManager()) {
            Frozen frozen = new Frozen(scope, o);
            List<Node.FeatureNode> expected = new ArrayList<>();
            for (SparseActivations code : frozen.activations) {
                for (int e = 0; e < code.size(); e++) {
                    expected.add(new Node.FeatureNode(code.layer(), code.positionAt(e), code.featureAt(e),
                            code.valueAt(e), expected.size()));
                }
            }
            assertThat(graph.activeFeatures()).hasSameSizeAs(expected);
            for (int i = 0; i < expected.size(); i++) {
                Node.FeatureNode got = graph.activeFeatures().get(i);
                Node.FeatureNode want = expected.get(i);
                assertThat(new int[] {got.layer(), got.position(), got.feature()}).as("active feature %d", i)
                        .containsExactly(want.layer(), want.position(), want.feature());
                assertThat((double) got.activation()).isCloseTo(want.activation(),
                        org.assertj.core.api.Assertions.within(1e-4 * Math.max(1, Math.abs(want.activation()))));
                assertThat(got.position()).as("no features at position 0").isPositive();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("setupNames")
    void salientTargetsFollowTheProbabilities(String name) {
        Opened o = opened.get(name);
        assumeTrue(o.model().capabilities().contains(BackendCapability.UNEMBEDDING), "needs UNEMBEDDING");
        AttributionGraph graph = fullGraph(o);
        double[] probabilities;
        try (NDManager scope = manager.newSubManager()) {
            float[] logits = o.model().forward(scope, o.setup().prompt(), List.of()).logits()
                    .get(o.setup().prompt().length() - 1).toFloatArray();
            probabilities = softmax(logits);
        }
        Integer[] byProbability = IntStream.range(0, probabilities.length).boxed()
                .sorted((x, y) -> Double.compare(probabilities[y], probabilities[x])).toArray(Integer[]::new);
        AttributionTargets.Salient salient = AttributionTargets.Salient.defaults();
        double cumulative = 0;
        int expected = 0;
        while (expected < salient.maxLogits()) {
            cumulative += probabilities[byProbability[expected++]];
            if (cumulative >= salient.desiredProbability()) {
                break;
            }
        }
        assertThat(graph.logits()).hasSize(expected);
        for (int k = 0; k < expected; k++) {
            Node.LogitNode logit = graph.logits().get(k);
            assertThat(logit.vocabIndex()).as("target %d", k).isBetween(0, o.model().config().vocabularySize() - 1);
            assertThat((double) logit.weight()).isCloseTo(probabilities[logit.vocabIndex()],
                    org.assertj.core.api.Assertions.within(1e-5));
            assertThat((double) logit.weight()).isCloseTo(probabilities[byProbability[k]],
                    org.assertj.core.api.Assertions.within(1e-5));
        }
    }

    // ---------------------------------------------------------------- the oracle

    @ParameterizedTest(name = "{0}")
    @MethodSource("setupNames")
    void edgesEqualThePerturbationEffectsInTheFrozenReplacementModel(String name) {
        Opened o = opened.get(name);
        AttributionGraph graph = fullGraph(o);
        checkOracle(o, graph, logitDirections(o, graph));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("setupNames")
    void customTargetRowsEqualTheirPerturbationEffects(String name) {
        Opened o = opened.get(name);
        AttributionTargets.Custom custom = customTargets(o.model(), 2);
        AttributionGraph graph = attribute(o, custom, 0, batchSize(), AttributionListener.NONE);
        int v = o.model().config().vocabularySize();
        assertThat(graph.logits()).extracting(Node.LogitNode::vocabIndex).containsExactly(v, v + 1);
        assertThat(graph.logits()).extracting(Node.LogitNode::label).containsExactly("direction 0", "direction 1");
        float[][] directions = custom.targets().stream().map(AttributionTargets.CustomTarget::direction)
                .toArray(float[][]::new);
        checkOracle(o, graph, directions);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("setupNames")
    void rowsSumToTheEffectOfRemovingEverySource(String name) {
        Opened o = opened.get(name);
        AttributionGraph graph = fullGraph(o);
        float[][] directions = logitDirections(o, graph);
        try (NDManager scope = manager.newSubManager()) {
            Frozen frozen = new Frozen(scope, o);
            Targets targets = new Targets(scope, o, graph, directions);
            double[] base = targets.values(frozen.run(List.of()));
            double[] removed = targets.values(frozen.run(frozen.removeEverySource()));
            EdgeMatrix a = graph.adjacency();
            double worst = 0;
            for (int r = 0; r < targets.rows.length; r++) {
                int t = targets.rows[r];
                double sum = 0;
                double magnitude = 0;
                for (int i = 0; i < a.rowSize(t); i++) {
                    sum += a.weightAt(t, i);
                    magnitude += Math.abs(a.weightAt(t, i));
                }
                double moved = base[r] - removed[r];
                // relative to the sum, or to a fraction of Σ|edges| when the edges cancel
                double error = Math.abs(moved - sum) / Math.max(Math.abs(sum),
                        relativeFloor() * Math.max(magnitude, 1e-30));
                worst = Math.max(worst, error);
                assertThat(error).as("row %d: sum of edges %s, effect of removing every source %s", t, sum, moved)
                        .isLessThanOrEqualTo(tolerance());
            }
            report(name, String.format("conservation: %d rows; max |Σ_s A[t,s] − effect| / max(|Σ|, %.0e·Σ|A|) %.2e",
                    targets.rows.length, relativeFloor(), worst));
        }
    }

    private void checkOracle(Opened o, AttributionGraph graph, float[][] logitDirections) {
        assertThat(graph.selected()).as("feature nodes to check (choose a prompt on which features fire)").isNotEmpty();
        EdgeMatrix a = graph.adjacency();
        int length = o.setup().prompt().length();
        int layers = o.model().config().layers();
        Random random = new Random(5);
        List<Integer> columns = new ArrayList<>();
        columns.addAll(sample(IntStream.range(0, graph.selected().size()).boxed().toList(), random));
        List<Integer> errors = new ArrayList<>();
        for (int layer = 0; layer < layers; layer++) {
            for (int p = 0; p < length; p++) {
                errors.add(graph.errorIndex(layer, p));
            }
        }
        columns.addAll(sample(errors, random));
        columns.add(graph.errorIndex(0, 0));
        columns.addAll(sample(IntStream.range(0, length).mapToObj(graph::tokenIndex).toList(), random));
        if (!columns.contains(graph.tokenIndex(0))) {
            columns.add(graph.tokenIndex(0));
        }
        List<Node> nodes = graph.nodes();
        double worstLarge = 0; // |effect − edge| / |edge| over edges ≥ floor × row maximum
        double worstNormalised = 0; // |effect − edge| / row maximum over all checked entries
        double worstAbsolute = 0;
        int checked = 0;
        try (NDManager scope = manager.newSubManager()) {
            Frozen frozen = new Frozen(scope, o);
            Targets targets = new Targets(scope, o, graph, logitDirections);
            double[] base = targets.values(frozen.run(List.of()));
            double[] rowScale = new double[targets.rows.length];
            for (int r = 0; r < targets.rows.length; r++) {
                for (int i = 0; i < a.rowSize(targets.rows[r]); i++) {
                    rowScale[r] = Math.max(rowScale[r], Math.abs(a.weightAt(targets.rows[r], i)));
                }
            }
            for (int column : columns) {
                double epsilon = perturbationScale();
                List<Hook> additions = frozen.sourceVector(nodes.get(column), perturbationScale());
                double[] moved = targets.values(frozen.run(additions));
                for (int r = 0; r < targets.rows.length; r++) {
                    int t = targets.rows[r];
                    double edge = a.get(t, column);
                    double effect = (moved[r] - base[r]) / epsilon;
                    double difference = Math.abs(effect - edge);
                    double scale = Math.max(Math.abs(edge), relativeFloor() * rowScale[r]);
                    worstAbsolute = Math.max(worstAbsolute, difference);
                    if (rowScale[r] > 0) {
                        worstNormalised = Math.max(worstNormalised, difference / rowScale[r]);
                        if (Math.abs(edge) >= relativeFloor() * rowScale[r]) {
                            worstLarge = Math.max(worstLarge, difference / Math.abs(edge));
                        }
                    }
                    checked++;
                    assertThat(difference).as("A[%s ← %s] = %s, but adding the source moves the target by %s",
                                    nodes.get(t), nodes.get(column), edge, effect)
                            .isLessThanOrEqualTo(scale == 0 ? 1e-6 : tolerance() * scale);
                }
            }
        }
        report(o.setup().name(), String.format("oracle: %d sources × %d targets = %d edges; max |Δ−A|/|A| (|A| ≥ %.0e·row"
                        + " max) %.2e, max |Δ−A|/row max %.2e, max |Δ−A| %.2e", columns.size(),
                graph.selected().size() + graph.logits().size(), checked, relativeFloor(), worstLarge, worstNormalised,
                worstAbsolute));
    }

    /** Where the kit reports measured errors; prints by default. */
    protected void report(String setup, String line) {
        System.out.println("[" + getClass().getSimpleName() + " " + setup + "] " + line);
    }

    /** The logit directions of a graph's targets: custom ones are unknown here, so this needs salient targets. */
    private float[][] logitDirections(Opened o, AttributionGraph graph) {
        TransformerModel model = o.model();
        if (!model.capabilities().contains(BackendCapability.UNEMBEDDING)) {
            return customTargets(model, 2).targets().stream().map(AttributionTargets.CustomTarget::direction)
                    .toArray(float[][]::new);
        }
        int[] ids = graph.logits().stream().mapToInt(Node.LogitNode::vocabIndex).toArray();
        try (NDManager scope = manager.newSubManager()) {
            NDArray vectors = model.unembeddingVectors(scope, ids);
            NDArray mean = model.meanUnembeddingVector(scope);
            float[] flat = vectors.sub(mean.reshape(1, -1)).toFloatArray();
            int d = model.config().modelWidth();
            float[][] directions = new float[ids.length][];
            for (int k = 0; k < ids.length; k++) {
                directions[k] = Arrays.copyOfRange(flat, k * d, (k + 1) * d);
            }
            return directions;
        }
    }

    // ---------------------------------------------------------------- invariances

    @ParameterizedTest(name = "{0}")
    @MethodSource("setupNames")
    void attributionIsDeterministic(String name) {
        Opened o = opened.get(name);
        AttributionGraph first = fullGraph(o);
        AttributionGraph second = attribute(o, targets(o.model()), 0, batchSize(), AttributionListener.NONE);
        assertThat(second.adjacency()).isEqualTo(first.adjacency());
        assertThat(second.nodes()).isEqualTo(first.nodes());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("setupNames")
    void theBatchSizeDoesNotChangeTheGraph(String name) {
        Opened o = opened.get(name);
        AttributionGraph reference = fullGraph(o);
        AttributionGraph other = attribute(o, targets(o.model()), 0, 7, AttributionListener.NONE);
        assertThat(other.nodes()).isEqualTo(reference.nodes());
        assertSameEdges(other, reference, (t, s) -> new int[] {t, s});
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("setupNames")
    void cappedGraphsKeepTheExactEdgesAmongTheirNodes(String name) {
        Opened o = opened.get(name);
        AttributionGraph full = fullGraph(o);
        int cap = Math.max(1, full.activeFeatures().size() / 3);
        AttributionGraph capped = attribute(o, targets(o.model()), cap, batchSize(), AttributionListener.NONE);
        assertThat(capped.selected()).hasSize(cap);
        assertThat(capped.activeFeatures()).isEqualTo(full.activeFeatures());
        assertThat(capped.selected()).isSubsetOf(full.activeFeatures());
        assertThat(capped.selected()).extracting(Node.FeatureNode::activeIndex).isSorted();
        int m = cap;
        int fullM = full.selected().size();
        assertSameEdges(capped, full, (t, s) -> new int[] {map(capped, t, m, fullM), map(capped, s, m, fullM)});
    }

    private static int map(AttributionGraph capped, int node, int m, int fullM) {
        return node < m ? capped.selected().get(node).activeIndex() : node - m + fullM;
    }

    private void assertSameEdges(AttributionGraph graph, AttributionGraph reference, NodeMap toReference) {
        EdgeMatrix a = graph.adjacency();
        EdgeMatrix b = reference.adjacency();
        for (int t = 0; t < graph.size(); t++) {
            double rowScale = 0;
            int[] mappedRow = toReference.map(t, t);
            for (int i = 0; i < b.rowSize(mappedRow[0]); i++) {
                rowScale = Math.max(rowScale, Math.abs(b.weightAt(mappedRow[0], i)));
            }
            for (int i = 0; i < a.rowSize(t); i++) {
                int[] mapped = toReference.map(t, a.columnAt(t, i));
                double expected = b.get(mapped[0], mapped[1]);
                assertThat((double) a.weightAt(t, i)).as("A[%d, %d]", t, a.columnAt(t, i))
                        .isCloseTo(expected, org.assertj.core.api.Assertions.within(
                                tolerance() * Math.max(Math.abs(expected), relativeFloor() * rowScale)));
            }
        }
        // and nothing of the reference's edges among these nodes is missing
        long present = 0;
        long expectedPresent = 0;
        for (int t = 0; t < graph.size(); t++) {
            present += a.rowSize(t);
        }
        for (int t = 0; t < graph.size(); t++) {
            for (int s = 0; s < graph.size(); s++) {
                int[] mapped = toReference.map(t, s);
                if (b.get(mapped[0], mapped[1]) != 0) {
                    expectedPresent++;
                }
            }
        }
        assertThat(present).as("stored edges").isEqualTo(expectedPresent);
    }

    /** Maps (target, source) of one graph to the same nodes of another. */
    @FunctionalInterface
    private interface NodeMap {
        int[] map(int target, int source);
    }

    // ---------------------------------------------------------------- progress, cancellation, errors

    @ParameterizedTest(name = "{0}")
    @MethodSource("setupNames")
    void progressReportsEveryPhaseInOrderAndCancellationStopsWithCancelled(String name) {
        Opened o = opened.get(name);
        List<AttributionPhase> started = new ArrayList<>();
        List<AttributionPhase> finished = new ArrayList<>();
        Map<AttributionPhase, long[]> steps = new HashMap<>();
        attribute(o, customTargets(o.model(), 2), 0, batchSize(), new AttributionListener() {
            @Override
            public void phaseStarted(AttributionPhase phase, long totalSteps) {
                started.add(phase);
                steps.put(phase, new long[] {0, totalSteps});
            }

            @Override
            public void progress(AttributionPhase phase, long done, long totalSteps) {
                assertThat(started).last().isEqualTo(phase);
                assertThat(done).isEqualTo(steps.get(phase)[0] + 1).isLessThanOrEqualTo(totalSteps);
                steps.get(phase)[0] = done;
            }

            @Override
            public void phaseFinished(AttributionPhase phase, long nanos) {
                finished.add(phase);
                assertThat(nanos).isNotNegative();
            }
        });
        assertThat(started).containsExactly(AttributionPhase.values());
        assertThat(finished).containsExactly(AttributionPhase.values());
        long featureBatches = steps.get(AttributionPhase.FEATURE_ROWS)[1];
        assertThat(steps.get(AttributionPhase.FEATURE_ROWS)[0]).isEqualTo(featureBatches);
        assumeTrue(featureBatches >= 2, "needs two feature batches to cancel between them");

        AtomicInteger polls = new AtomicInteger();
        AtomicInteger featureSteps = new AtomicInteger();
        assertThatThrownBy(() -> attribute(o, customTargets(o.model(), 2), 0, batchSize(), new AttributionListener() {
            @Override
            public void progress(AttributionPhase phase, long done, long totalSteps) {
                if (phase == AttributionPhase.FEATURE_ROWS) {
                    featureSteps.incrementAndGet();
                }
            }

            @Override
            public boolean isCancelled() {
                polls.incrementAndGet();
                return featureSteps.get() >= 1;
            }
        })).isInstanceOfSatisfying(CircuitTracerException.class,
                e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.CANCELLED));
        assertThat(featureSteps.get()).as("stopped after the first feature batch").isEqualTo(1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("setupNames")
    void badTargetsAreClearUserErrors(String name) {
        Opened o = opened.get(name);
        int vocabulary = o.model().config().vocabularySize();
        float[] tooShort = new float[o.model().config().modelWidth() - 1];
        assertThatThrownBy(() -> attribute(o, new AttributionTargets.Custom(List.of(
                new AttributionTargets.CustomTarget("short", 1f, tooShort))), 0, batchSize(), AttributionListener.NONE))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining(String.valueOf(o.model().config().modelWidth()));
        if (o.model().capabilities().contains(BackendCapability.UNEMBEDDING)) {
            assertThatThrownBy(() -> attribute(o, new AttributionTargets.TokenIds(List.of(1, vocabulary, vocabulary + 7)),
                    0, batchSize(), AttributionListener.NONE))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining(String.valueOf(vocabulary)).hasMessageContaining(String.valueOf(vocabulary + 7));
        } else {
            assertThatThrownBy(() -> attribute(o, AttributionTargets.Salient.defaults(), 0, batchSize(),
                    AttributionListener.NONE)).isInstanceOfSatisfying(CircuitTracerException.class,
                    e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MISSING_CAPABILITY));
        }
    }

    // ---------------------------------------------------------------- the frozen replacement model

    /** The frozen forward pass of a setup's model around its prompt, and the vectors of the sources. */
    private final class Frozen {
        private final NDManager scope;
        private final TransformerModel model;
        private final SparseDictionary dictionary;
        private final TokenSequence tokens;
        private final ForwardResult clean;
        private final List<HookSite> frozenSites;
        private final List<SparseActivations> activations = new ArrayList<>();
        private final int layers;

        Frozen(NDManager scope, Opened o) {
            this.scope = scope;
            this.model = o.model();
            this.dictionary = o.dictionary();
            this.tokens = o.setup().prompt();
            this.layers = model.config().layers();
            this.frozenSites = model.sites().stream()
                    .filter(s -> s.kind() == SiteKind.ATTN_PATTERN || s.kind().name().endsWith("_SCALE")).toList();
            List<Hook> captures = new ArrayList<>();
            frozenSites.forEach(s -> captures.add(new Hook.Capture(s)));
            for (int layer = 0; layer < layers; layer++) {
                captures.add(new Hook.Capture(read(layer)));
                captures.add(new Hook.Capture(write(layer)));
            }
            captures.add(new Hook.Capture(HookSite.global(SiteKind.EMBED)));
            captures.add(new Hook.Capture(HookSite.global(SiteKind.UNEMBED_IN)));
            this.clean = model.forward(scope, tokens, captures);
            for (int layer = 0; layer < layers; layer++) {
                activations.add(dictionary.encodeSparse(scope, layer, clean.capturedAt(read(layer)), Set.of(0)));
            }
        }

        HookSite read(int layer) {
            return HookSite.of(dictionary.readSite(), layer);
        }

        HookSite write(int layer) {
            return HookSite.of(dictionary.writeSite(), layer);
        }

        /** Runs the frozen model with {@code additions} and captures every read site and {@code unembed.hook_in}. */
        ForwardResult run(List<Hook> additions) {
            List<Hook> hooks = new ArrayList<>();
            for (HookSite site : frozenSites) {
                hooks.add(new Hook.Replace(site, Positions.all(), clean.capturedAt(site)));
            }
            for (int layer = 0; layer < layers; layer++) {
                NDArray cleanWrite = clean.capturedAt(write(layer));
                var skip = dictionary.skip(layer);
                if (skip.isEmpty()) {
                    hooks.add(new Hook.Replace(write(layer), Positions.all(), cleanWrite));
                } else {
                    assumeTrue(model.capabilities().contains(BackendCapability.FUNCTION_HOOKS),
                            "the skip path of the oracle needs FUNCTION_HOOKS");
                    // out = clean + skip(x) − skip(x_clean): only the skip path stays live
                    LinearMap map = skip.get();
                    NDArray[] input = new NDArray[1];
                    NDArray cleanSkip = map.apply(clean.capturedAt(read(layer)));
                    hooks.add(new Hook.Transform(read(layer), x -> {
                        input[0] = x;
                        return x;
                    }));
                    hooks.add(new Hook.Transform(write(layer), y -> cleanWrite.add(map.apply(input[0]).sub(cleanSkip))));
                }
            }
            hooks.addAll(additions);
            for (int layer = 0; layer < layers; layer++) {
                hooks.add(new Hook.Capture(read(layer)));
            }
            hooks.add(new Hook.Capture(HookSite.global(SiteKind.UNEMBED_IN)));
            return model.forward(scope, tokens, hooks);
        }

        /** Hooks adding a source's vector(s), times {@code epsilon}, at its write location(s). */
        List<Hook> sourceVector(Node source, float epsilon) {
            if (source instanceof Node.FeatureNode f) {
                List<Hook> hooks = new ArrayList<>();
                for (int m : dictionary.outputLayers(f.layer())) {
                    NDArray row = dictionary.decoderRows(scope, f.layer(), new int[] {f.feature()}, m)
                            .mul(f.activation() * epsilon);
                    hooks.add(new Hook.Add(write(m), Positions.at(f.position()), row));
                }
                return hooks;
            }
            if (source instanceof Node.ErrorNode e) {
                NDArray error = error(e.layer()).get(e.position()).reshape(1, -1).mul(epsilon);
                return List.of(new Hook.Add(write(e.layer()), Positions.at(e.position()), error));
            }
            Node.TokenNode token = (Node.TokenNode) source;
            NDArray embedding = clean.capturedAt(HookSite.global(SiteKind.EMBED)).get(token.position()).reshape(1, -1)
                    .mul(epsilon);
            return List.of(new Hook.Add(HookSite.global(SiteKind.EMBED), Positions.at(token.position()), embedding));
        }

        /** {@code [T, d]}: {@code y − decode(...)}, zero at position 0. */
        NDArray error(int layer) {
            List<SparseActivations> writers = new ArrayList<>();
            for (int source = 0; source <= layer; source++) {
                for (int m : dictionary.outputLayers(source)) {
                    if (m == layer) {
                        writers.add(activations.get(source));
                    }
                }
            }
            NDArray reconstruction = dictionary.decode(scope, layer, writers, clean.capturedAt(read(layer)));
            NDArray error = clean.capturedAt(write(layer)).sub(reconstruction);
            error.set(new ai.djl.ndarray.index.NDIndex(0), 0f);
            return error;
        }

        /** Hooks removing every node's contribution: features and errors at every write site, tokens at hook_embed. */
        List<Hook> removeEverySource() {
            List<Hook> hooks = new ArrayList<>();
            for (int layer = 0; layer < layers; layer++) {
                NDArray x = clean.capturedAt(read(layer));
                NDArray constant = dictionary.decoderBias(scope, layer).reshape(1, -1).broadcast(x.getShape());
                var skip = dictionary.skip(layer);
                if (skip.isPresent()) {
                    constant = constant.add(skip.get().apply(x));
                }
                // Σ features + error = y − b_dec − skip(x), except at position 0 where the whole output is constant
                NDArray contributions = clean.capturedAt(write(layer)).sub(constant);
                contributions.set(new ai.djl.ndarray.index.NDIndex(0), 0f);
                hooks.add(new Hook.Add(write(layer), Positions.all(), contributions.neg()));
            }
            hooks.add(new Hook.Add(HookSite.global(SiteKind.EMBED), Positions.all(),
                    clean.capturedAt(HookSite.global(SiteKind.EMBED)).neg()));
            return hooks;
        }
    }

    /** The target scalars of a graph's feature and logit rows, read from a frozen forward pass. */
    private final class Targets {
        /** Graph rows: every feature node, then every logit node. */
        final int[] rows;
        private final int features;
        private final int[] layerOf;
        private final int[] positionOf;
        private final NDArray[] encoders;
        private final int[][] lanesOfLayer;
        private final NDArray directions;
        private final int last;
        private final SparseDictionary dictionary;

        Targets(NDManager scope, Opened o, AttributionGraph graph, float[][] logitDirections) {
            this.dictionary = o.dictionary();
            this.features = graph.selected().size();
            int k = graph.logits().size();
            assertThat(logitDirections.length).as("logit directions").isEqualTo(k);
            this.rows = new int[features + k];
            this.layerOf = new int[features];
            this.positionOf = new int[features];
            int layers = o.model().config().layers();
            this.encoders = new NDArray[layers];
            this.lanesOfLayer = new int[layers][];
            for (int j = 0; j < features; j++) {
                rows[j] = j;
                layerOf[j] = graph.selected().get(j).layer();
                positionOf[j] = graph.selected().get(j).position();
            }
            for (int layer = 0; layer < layers; layer++) {
                int l = layer;
                lanesOfLayer[layer] = IntStream.range(0, features).filter(j -> layerOf[j] == l).toArray();
                int[] ids = Arrays.stream(lanesOfLayer[layer]).map(j -> graph.selected().get(j).feature()).toArray();
                encoders[layer] = ids.length == 0 ? null : dictionary.encoderRows(scope, layer, ids);
            }
            for (int i = 0; i < k; i++) {
                rows[features + i] = graph.logitIndex(i);
            }
            int d = o.model().config().modelWidth();
            float[] flat = new float[Math.max(1, k) * d];
            for (int i = 0; i < k; i++) {
                System.arraycopy(logitDirections[i], 0, flat, i * d, d);
            }
            this.directions = scope.create(flat, new Shape(Math.max(1, k), d));
            this.last = o.setup().prompt().length() - 1;
        }

        /** One value per row: {@code ⟨enc, x⟩} for features, {@code ⟨g, z[T−1]⟩} for logits, in double precision. */
        double[] values(ForwardResult result) {
            double[] values = new double[rows.length];
            for (int layer = 0; layer < encoders.length; layer++) {
                if (encoders[layer] == null) {
                    continue;
                }
                float[] x = result.capturedAt(HookSite.of(dictionary.readSite(), layer)).toFloatArray();
                float[] enc = encoders[layer].toFloatArray();
                int d = (int) encoders[layer].getShape().get(1);
                int[] lanes = lanesOfLayer[layer];
                for (int i = 0; i < lanes.length; i++) {
                    values[lanes[i]] = dot(x, positionOf[lanes[i]] * d, enc, i * d, d);
                }
            }
            float[] z = result.capturedAt(HookSite.global(SiteKind.UNEMBED_IN)).get(last).toFloatArray();
            float[] g = directions.toFloatArray();
            for (int i = features; i < rows.length; i++) {
                values[i] = dot(z, 0, g, (i - features) * z.length, z.length);
            }
            return values;
        }
    }

    // ---------------------------------------------------------------- helpers

    private <T> List<T> sample(List<T> all, Random random) {
        List<T> copy = new ArrayList<>(all);
        java.util.Collections.shuffle(copy, random);
        return copy.subList(0, Math.min(sampledSources(), copy.size()));
    }

    private static double dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (double) a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    private static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }
}
