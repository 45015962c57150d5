package org.circuittracer.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.spi.model.ForwardResult;
import org.circuittracer.spi.model.GenerationRequest;
import org.circuittracer.spi.model.GenerationResult;
import org.circuittracer.spi.model.HeadLoadings;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.LinearMap;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.Positions;
import org.circuittracer.spi.model.QkAttribution;
import org.circuittracer.spi.model.QkQuery;
import org.circuittracer.spi.model.Sampling;
import org.circuittracer.spi.model.SeedSite;
import org.circuittracer.spi.model.SourceWrites;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.model.VjpResult;
import org.circuittracer.spi.model.VjpSeeds;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Model-level rules for backends, checked on real models (e.g. the tiny fixture models). Capability-dependent rules
 * run when the capability is declared and otherwise check that asking for it fails with the standard error.
 *
 * <p>The oracle for the vector-Jacobian product is the backend's own forward pass with every nonlinearity the
 * linearisation freezes replaced by its clean value (attention patterns, norm scales, MLP outputs — plus the skip
 * map's change where one is given): that "frozen forward" is affine, so adding a vector {@code v} at a write site
 * must move every seeded scalar by exactly {@code ⟨gradient, v⟩}.
 *
 * <pre>{@code
 * class DjlBackendConformanceTest extends AbstractBackendConformanceTest {
 *     protected BackendProvider provider() { return new DjlBackendProvider(); }
 *     protected List<Path> models() { return List.of(SharedFixtures.resolve("tiny-models/llama")); }
 * }
 * }</pre>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class AbstractBackendConformanceTest {

    /** The backend under test. */
    protected abstract BackendProvider provider();

    /** Small model directories the backend can open. */
    protected abstract List<Path> models();

    /** Relative tolerance of linear identities computed by two different routes in float32. */
    protected double tolerance() {
        return 2e-4;
    }

    private NDManager manager;
    private final Map<Path, TransformerModel> opened = new HashMap<>();

    @BeforeAll
    void openModels() {
        manager = NDManager.newBaseManager();
        for (Path dir : models()) {
            opened.put(dir, provider().create(ModelSource.of(dir)));
        }
    }

    @AfterAll
    void closeModels() {
        opened.values().forEach(TransformerModel::close);
        if (manager != null) {
            manager.close();
        }
    }

    Stream<Arguments> modelDirectories() {
        return models().stream().map(dir -> Arguments.of(dir.getFileName().toString(), dir));
    }

    /** A prompt for {@code model}: seven token ids, reproducible. */
    protected TokenSequence prompt(TransformerModel model) {
        Random random = new Random(7);
        int[] ids = new int[7];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = random.nextInt(model.config().vocabularySize());
        }
        return new TokenSequence(ids);
    }

    // ---------------------------------------------------------------- hooks

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelDirectories")
    void identityTransformsChangeNothing(String name, Path dir) {
        TransformerModel model = opened.get(dir);
        assumeTrue(model.capabilities().contains(BackendCapability.FUNCTION_HOOKS));
        try (NDManager scope = manager.newSubManager()) {
            TokenSequence tokens = prompt(model);
            NDArray plain = model.forward(scope, tokens, List.of()).logits();
            List<Hook> identities = model.sites().stream().<Hook>map(s -> new Hook.Transform(s, x -> x)).toList();
            assertClose(model.forward(scope, tokens, identities).logits(), plain, 0);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelDirectories")
    void replacingEverySiteWithItsOwnValueChangesNothing(String name, Path dir) {
        TransformerModel model = opened.get(dir);
        try (NDManager scope = manager.newSubManager()) {
            TokenSequence tokens = prompt(model);
            ForwardResult clean = captureAll(scope, model, tokens, model.sites());
            List<Hook> replaces = model.sites().stream()
                    .<Hook>map(s -> new Hook.Replace(s, Positions.all(), clean.capturedAt(s))).toList();
            assertClose(model.forward(scope, tokens, replaces).logits(), clean.logits(), tolerance());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelDirectories")
    void frozenPatternsAndScalesReproduceTheRealForward(String name, Path dir) {
        TransformerModel model = opened.get(dir);
        try (NDManager scope = manager.newSubManager()) {
            TokenSequence tokens = prompt(model);
            List<HookSite> frozen = frozenSites(model);
            assertThat(frozen).as("attention patterns and norm scales").isNotEmpty();
            ForwardResult clean = captureAll(scope, model, tokens, frozen);
            List<Hook> freeze = frozen.stream()
                    .<Hook>map(s -> new Hook.Replace(s, Positions.all(), clean.capturedAt(s))).toList();
            assertClose(model.forward(scope, tokens, freeze).logits(), clean.logits(), tolerance());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelDirectories")
    void badInputIsAClearUserError(String name, Path dir) {
        TransformerModel model = opened.get(dir);
        try (NDManager scope = manager.newSubManager()) {
            int vocabulary = model.config().vocabularySize();
            assertThatThrownBy(() -> model.forward(scope, TokenSequence.of(0, vocabulary), List.of()))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining(String.valueOf(vocabulary));
            HookSite residual = HookSite.of(SiteKind.RESID_PRE, 0);
            NDArray misshaped = scope.zeros(new Shape(3, model.config().modelWidth() + 1));
            assertThatThrownBy(() -> model.forward(scope, prompt(model),
                    List.of(new Hook.Replace(residual, Positions.range(0, 3), misshaped))))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining(residual.toString());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelDirectories")
    void unembeddingVectorsGiveTheLogitsAtTheUnembeddingInput(String name, Path dir) {
        TransformerModel model = opened.get(dir);
        int vocabulary = model.config().vocabularySize();
        int[] all = java.util.stream.IntStream.range(0, vocabulary).toArray();
        if (!requireOrExpectMissing(model, BackendCapability.UNEMBEDDING,
                () -> model.unembeddingVectors(manager, new int[] {0}))) {
            return;
        }
        try (NDManager scope = manager.newSubManager()) {
            TokenSequence tokens = prompt(model);
            HookSite z = HookSite.global(SiteKind.UNEMBED_IN);
            ForwardResult result = model.forward(scope, tokens, List.of(new Hook.Capture(z)));
            NDArray vectors = model.unembeddingVectors(scope, all);
            assertThat(vectors.getShape()).isEqualTo(new Shape(vocabulary, model.config().modelWidth()));
            float[] direct = result.capturedAt(z).get(tokens.length() - 1).matMul(vectors.transpose()).toFloatArray();
            float[] logits = result.logits().get(tokens.length() - 1).toFloatArray();
            // logits are ⟨z, U[:, t]⟩ up to a constant bias and any monotone final soft-cap: the order must agree
            for (int a = 0; a < vocabulary; a++) {
                for (int b = 0; b < vocabulary; b++) {
                    if (direct[a] > direct[b] + tolerance() * (1 + Math.abs(direct[a]))) {
                        assertThat(logits[a]).as("token %d scores above token %d", a, b).isGreaterThanOrEqualTo(logits[b]);
                    }
                }
            }
            assertClose(model.meanUnembeddingVector(scope), vectors.mean(new int[] {0}), tolerance());
            assertClose(model.unembeddingVectors(scope, new int[] {3, 1, 3}).get(2), vectors.get(3), 0);
            assertThatThrownBy(() -> model.unembeddingVectors(scope, new int[] {vocabulary}))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT));
        }
    }

    // ---------------------------------------------------------------- the linearised model

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelDirectories")
    void vjpEqualsTheEffectOfPerturbingTheFrozenModel(String name, Path dir) {
        TransformerModel model = opened.get(dir);
        if (!requireOrExpectMissing(model, BackendCapability.VJP,
                () -> model.linearize(manager, prompt(model), specs(model, false).get(0)))) {
            return;
        }
        for (LinearizationSpec spec : specs(model, model.capabilities().contains(BackendCapability.FUNCTION_HOOKS))) {
            checkVjpAgainstPerturbations(model, spec);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelDirectories")
    void aBatchOfSeedsEqualsTheSeedsOneByOne(String name, Path dir) {
        TransformerModel model = opened.get(dir);
        assumeTrue(model.capabilities().contains(BackendCapability.VJP));
        LinearizationSpec spec = specs(model, false).get(0);
        try (NDManager scope = manager.newSubManager();
             LinearizedModel linear = model.linearize(scope, prompt(model), spec)) {
            VjpSeeds batch = seeds(scope, model, linear.tokens().length(), new Random(3));
            VjpResult together = linear.vjp(scope, batch);
            for (int i = 0; i < batch.lanes(); i++) {
                final int lane = i;
                VjpSeeds one = new VjpSeeds(List.of(batch.sites().get(lane)), batch.vectors().get(lane).reshape(1, -1));
                VjpResult alone = linear.vjp(scope, one);
                int p = alone.positions();
                assertClose(alone.embeddingGradient().get(0), together.embeddingGradient().get(lane).get(":" + p),
                        tolerance());
                for (int layer = 0; layer < model.config().layers(); layer++) {
                    int l = layer;
                    var single = alone.writeSiteGradient(layer).map(g -> g.get(0));
                    var batched = together.writeSiteGradient(layer).map(g -> g.get(lane).get(":" + p));
                    if (single.isPresent() && batched.isPresent()) {
                        assertClose(single.get(), batched.get(), tolerance());
                    } else {
                        // structurally zero in one result, so (numerically) zero in the other
                        single.or(() -> batched).ifPresent(g -> assertThat(maxAbs(g)).as("layer %d", l).isZero());
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelDirectories")
    void theLinearisedModelRecordsTheCleanForward(String name, Path dir) {
        TransformerModel model = opened.get(dir);
        assumeTrue(model.capabilities().contains(BackendCapability.VJP));
        LinearizationSpec spec = specs(model, false).get(0);
        try (NDManager scope = manager.newSubManager();
             LinearizedModel linear = model.linearize(scope, prompt(model), spec)) {
            List<HookSite> sites = new ArrayList<>(frozenSites(model));
            for (int layer = 0; layer < model.config().layers(); layer++) {
                sites.add(HookSite.of(spec.readSite(), layer));
                sites.add(HookSite.of(spec.writeSite(), layer));
            }
            sites.add(HookSite.global(SiteKind.EMBED));
            sites.add(HookSite.global(SiteKind.UNEMBED_IN));
            ForwardResult clean = captureAll(scope, model, linear.tokens(), sites);
            for (HookSite site : sites) {
                assertThat(linear.clean()).as("clean value of %s", site).containsKey(site);
                assertClose(linear.clean().get(site), clean.capturedAt(site), tolerance());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelDirectories")
    void seedsOutsideTheModelAreRejected(String name, Path dir) {
        TransformerModel model = opened.get(dir);
        assumeTrue(model.capabilities().contains(BackendCapability.VJP));
        try (NDManager scope = manager.newSubManager();
             LinearizedModel linear = model.linearize(scope, prompt(model), specs(model, false).get(0))) {
            NDArray vector = scope.ones(new Shape(1, model.config().modelWidth()));
            int length = linear.tokens().length();
            assertThatThrownBy(() -> linear.vjp(scope, new VjpSeeds(
                    List.of(new SeedSite.ReadSite(model.config().layers(), 0)), vector)))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT));
            assertThatThrownBy(() -> linear.vjp(scope, new VjpSeeds(List.of(new SeedSite.ReadSite(0, length)), vector)))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT));
        }
    }

    // ---------------------------------------------------------------- attention heads

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelDirectories")
    void headLoadingsSplitEveryEdgeExactly(String name, Path dir) {
        TransformerModel model = opened.get(dir);
        assumeTrue(model.capabilities().contains(BackendCapability.VJP));
        LinearizationSpec spec = specs(model, false).get(0);
        try (NDManager scope = manager.newSubManager();
             LinearizedModel linear = model.linearize(scope, prompt(model), spec)) {
            VjpSeeds targets = seeds(scope, model, linear.tokens().length(), new Random(5));
            SourceWrites sources = sourceWrites(scope, model, spec, linear.tokens().length(), new Random(6));
            int[][] edges = allPairs(targets.lanes(), sources.sources());
            if (!requireOrExpectMissing(model, BackendCapability.HEAD_LOADINGS,
                    () -> linear.headLoadings(scope, targets, sources, edges[0], edges[1]))) {
                return;
            }
            HeadLoadings split = linear.headLoadings(scope, targets, sources, edges[0], edges[1]);
            int layers = model.config().layers();
            assertThat(split.edges()).isEqualTo(edges[0].length);
            assertThat(split.layers()).isEqualTo(layers);
            assertThat(split.heads()).isPositive();
            // the totals are the edges the VJP gives (an independent route)
            VjpResult gradients = linear.vjp(scope, targets);
            double[] expected = directEffects(gradients, sources, edges);
            double anyLoading = 0;
            for (int e = 0; e < split.edges(); e++) {
                assertThat((double) split.total(e)).as("edge %d", e)
                        .isCloseTo(expected[e], org.assertj.core.data.Offset.offset(1e-5 * Math.max(1, Math.abs(expected[e]))));
                for (int m = 0; m < layers; m++) {
                    double sum = split.bypass(e, m);
                    double magnitude = Math.abs(split.bypass(e, m));
                    for (int h = 0; h < split.heads(); h++) {
                        sum += split.loading(e, m, h);
                        magnitude += Math.abs(split.loading(e, m, h));
                        anyLoading = Math.max(anyLoading, Math.abs(split.loading(e, m, h)));
                    }
                    double scale = Math.max(1e-3, Math.max(magnitude, Math.abs(split.total(e))));
                    assertThat(Math.abs(sum - split.total(e))).as("edge %d, layer %d: Σ heads + bypass = %s vs edge %s",
                            e, m, sum, split.total(e)).isLessThanOrEqualTo(1e-5 * scale);
                }
            }
            assertThat(anyLoading).as("some edge passes some head").isPositive();
            checkLoadingsAgainstScaledHeads(scope, model, spec, linear, targets, sources, edges, split);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelDirectories")
    void headLoadingsRefuseEdgesOutsideTheBatch(String name, Path dir) {
        TransformerModel model = opened.get(dir);
        assumeTrue(model.capabilities().contains(BackendCapability.HEAD_LOADINGS));
        LinearizationSpec spec = specs(model, false).get(0);
        try (NDManager scope = manager.newSubManager();
             LinearizedModel linear = model.linearize(scope, prompt(model), spec)) {
            VjpSeeds targets = seeds(scope, model, linear.tokens().length(), new Random(5));
            SourceWrites sources = sourceWrites(scope, model, spec, linear.tokens().length(), new Random(6));
            assertThatThrownBy(() -> linear.headLoadings(scope, targets, sources, new int[] {targets.lanes()},
                    new int[] {0})).isInstanceOfSatisfying(CircuitTracerException.class,
                    e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("lane");
            assertThatThrownBy(() -> linear.headLoadings(scope, targets, sources, new int[] {0},
                    new int[] {sources.sources()})).isInstanceOfSatisfying(CircuitTracerException.class,
                    e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT));
            SourceWrites wrongSite = new SourceWrites(1, new int[] {0},
                    List.of(HookSite.of(SiteKind.RESID_PRE, 0)), new int[] {0},
                    scope.ones(new Shape(1, model.config().modelWidth())));
            assertThatThrownBy(() -> linear.headLoadings(scope, targets, wrongSite, new int[] {0}, new int[] {0}))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("hook_resid_pre");
        }
    }

    /**
     * The perturbation oracle of head loadings: doubling head {@code h}'s frozen pattern at layer {@code m} doubles its
     * output (its value biases are constants), so every edge moves by exactly its loading on that head. Edges are read
     * from the frozen forward pass as (target with the source) − (target without it), for two (layer, head) pairs.
     */
    private void checkLoadingsAgainstScaledHeads(NDManager scope, TransformerModel model, LinearizationSpec spec,
                                                 LinearizedModel linear, VjpSeeds targets, SourceWrites sources,
                                                 int[][] edges, HeadLoadings split) {
        TokenSequence tokens = linear.tokens();
        FrozenForward frozen = new FrozenForward(scope, model, tokens, spec);
        int layers = model.config().layers();
        Random random = new Random(17);
        double[][] plain = frozen.edges(Map.of(), targets, sources);
        for (int trial = 0; trial < 2; trial++) {
            int m = trial == 0 ? 0 : layers - 1;
            int h = random.nextInt(split.heads());
            HookSite patternSite = HookSite.of(SiteKind.ATTN_PATTERN, m);
            NDArray pattern = frozen.clean.capturedAt(patternSite).duplicate();
            pattern.set(new ai.djl.ndarray.index.NDIndex(h), pattern.get(h).mul(2));
            double[][] doubled = frozen.edges(Map.of(patternSite, pattern), targets, sources);
            for (int e = 0; e < edges[0].length; e++) {
                double moved = doubled[edges[0][e]][edges[1][e]] - plain[edges[0][e]][edges[1][e]];
                double loading = split.loading(e, m, h);
                double scale = Math.max(1, Math.max(Math.abs(plain[edges[0][e]][edges[1][e]]), Math.abs(loading)));
                assertThat(Math.abs(moved - loading)).as("edge %d, layer %d, head %d: moved %s, loading %s", e, m, h,
                        moved, loading).isLessThanOrEqualTo(tolerance() * scale);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelDirectories")
    void qkAttributionSplitsTheScoreTheForwardPassComputes(String name, Path dir) {
        TransformerModel model = opened.get(dir);
        assumeTrue(model.capabilities().contains(BackendCapability.VJP));
        LinearizationSpec spec = specs(model, false).get(0);
        try (NDManager scope = manager.newSubManager();
             LinearizedModel linear = model.linearize(scope, prompt(model), spec)) {
            int length = linear.tokens().length();
            int layers = model.config().layers();
            SourceWrites sources = sourceWrites(scope, model, spec, length, new Random(6));
            int q = length - 1;
            Random random = new Random(23);
            List<QkQuery> queries = new ArrayList<>();
            for (int m : new int[] {0, layers - 1}) {
                int h = random.nextInt(model.config().heads());
                // two earlier keys: a change at the query position then moves the query only
                queries.add(new QkQuery(m, h, q, q - 1));
                queries.add(new QkQuery(m, h, q, q - 2));
            }
            if (!requireOrExpectMissing(model, BackendCapability.QK_ATTRIBUTION,
                    () -> linear.qkAttribution(scope, sources, queries))) {
                return;
            }
            List<QkAttribution> split = linear.qkAttribution(scope, sources, queries);
            assertThat(split).hasSize(queries.size());
            for (QkAttribution r : split) {
                double sum = r.constant();
                double magnitude = Math.abs(r.constant());
                for (int a = 0; a < r.sources(); a++) {
                    sum += r.queryMarginal()[a] + r.keyMarginal()[a];
                    magnitude += Math.abs(r.queryMarginal()[a]) + Math.abs(r.keyMarginal()[a]);
                    for (int b = 0; b < r.sources(); b++) {
                        sum += r.pair(a, b);
                        magnitude += Math.abs(r.pair(a, b));
                    }
                }
                assertThat(Math.abs(sum - r.score())).as("%s: terms %s vs score %s", r.query(), sum, r.score())
                        .isLessThanOrEqualTo(1e-5 * Math.max(1, magnitude));
            }
            // the scores are the forward pass's: the pattern's log-ratio of two keys is the difference of their logits
            for (int i = 0; i < split.size(); i += 2) {
                QkAttribution earlier = split.get(i);
                QkAttribution last = split.get(i + 1);
                NDArray pattern = linear.clean().get(HookSite.of(SiteKind.ATTN_PATTERN, earlier.query().layer()));
                double ratio = Math.log(pattern.getFloat(earlier.query().head(), q, q - 1))
                        - Math.log(pattern.getFloat(earlier.query().head(), q, q - 2));
                assertThat(ratio).as("%s: log P ratio vs logits", earlier.query())
                        .isCloseTo(earlier.logit() - last.logit(), org.assertj.core.data.Offset.offset(
                                1e-3 * Math.max(1, Math.abs(ratio))));
            }
            checkQkAgainstRemovedSources(scope, model, spec, linear, sources, split);
        }
    }

    /**
     * The perturbation oracle of QK attribution, where the split is the score's exact change (no per-head query or key
     * norm, whose scales the split freezes but a forward pass cannot): in the frozen model with layer m's pattern left
     * live, removing source a's change of {@code resid_pre(m)} at the query position moves each key's score by minus
     * the source's row of terms (pairwise with every key-side source, and against the key's rest), and its logit by
     * what any soft-cap makes of that.
     */
    private void checkQkAgainstRemovedSources(NDManager scope, TransformerModel model, LinearizationSpec spec,
                                              LinearizedModel linear, SourceWrites sources,
                                              List<QkAttribution> split) {
        if (hasHeadNorms(model)) {
            return;
        }
        FrozenForward frozen = new FrozenForward(scope, model, linear.tokens(), spec);
        for (int i = 0; i < split.size(); i += 2) {
            QkAttribution earlier = split.get(i);
            QkAttribution last = split.get(i + 1);
            int m = earlier.query().layer();
            int h = earlier.query().head();
            int q = earlier.query().query();
            HookSite patternSite = HookSite.of(SiteKind.ATTN_PATTERN, m);
            HookSite input = HookSite.of(SiteKind.RESID_PRE, m);
            double before = logRatio(frozen.runLive(List.of(), patternSite, input), patternSite, h, q);
            NDArray plain = frozen.runLive(List.of(), patternSite, input).capturedAt(input);
            for (int a = 0; a < earlier.sources(); a++) {
                NDArray with = frozen.runLive(frozen.writesOf(sources, a), patternSite, input).capturedAt(input);
                NDArray change = with.get(q).sub(plain.get(q)).reshape(1, -1);
                double after = logRatio(frozen.runLive(List.of(new Hook.Add(input, Positions.at(q), change.neg())),
                        patternSite, input), patternSite, h, q);
                double rowEarlier = earlier.queryMarginal()[a];
                double rowLast = last.queryMarginal()[a];
                for (int b = 0; b < earlier.sources(); b++) {
                    rowEarlier += earlier.pair(a, b);
                    rowLast += last.pair(a, b);
                }
                // the scores move by minus the rows; the logits by the soft-cap's change, where there is one
                double predicted = capped(earlier, earlier.score() - rowEarlier) - capped(last, last.score() - rowLast)
                        - (earlier.logit() - last.logit());
                assertThat(after - before).as("%s, source %d removed at the query", earlier.query(), a)
                        .isCloseTo(predicted, org.assertj.core.data.Offset.offset(
                                tolerance() * Math.max(1, Math.abs(predicted))));
            }
        }
    }

    /**
     * The logit of {@code score} under the soft-cap {@code c·tanh(x / c)} that maps the clean score to the clean logit
     * (found by bisection; the score itself without a cap).
     */
    private static double capped(QkAttribution clean, double score) {
        double s = clean.score();
        double logit = clean.logit();
        if (logit == s || s == 0) {
            return score;
        }
        // c·tanh(s / c) grows with c towards s: bisect for the c that gives the clean logit
        double lo = 1e-6;
        double hi = 1e6;
        for (int i = 0; i < 200; i++) {
            double c = Math.sqrt(lo * hi);
            if (Math.abs(c * Math.tanh(s / c)) < Math.abs(logit)) {
                lo = c;
            } else {
                hi = c;
            }
        }
        double c = Math.sqrt(lo * hi);
        return c * Math.tanh(score / c);
    }

    private static double logRatio(ForwardResult result, HookSite patternSite, int head, int q) {
        NDArray pattern = result.capturedAt(patternSite);
        return Math.log(pattern.getFloat(head, q, q - 1)) - Math.log(pattern.getFloat(head, q, q - 2));
    }

    /** Architectures whose attention normalises each head's queries and keys (Qwen 3, Gemma 3). */
    protected boolean hasHeadNorms(TransformerModel model) {
        String architecture = model.config().architecture();
        return architecture.startsWith("Qwen3") || architecture.startsWith("Gemma3");
    }

    /**
     * Four sources: a token embedding, a write below the top layer, a cross-layer source writing at the bottom and
     * top layers, and a late write.
     */
    private static SourceWrites sourceWrites(NDManager scope, TransformerModel model, LinearizationSpec spec,
                                             int length, Random random) {
        int layers = model.config().layers();
        int width = model.config().modelWidth();
        int[] owners = {0, 1, 2, 2, 3};
        List<HookSite> sites = List.of(HookSite.global(SiteKind.EMBED), HookSite.of(spec.writeSite(), 0),
                HookSite.of(spec.writeSite(), 0), HookSite.of(spec.writeSite(), layers - 1),
                HookSite.of(spec.writeSite(), Math.min(1, layers - 1)));
        int[] positions = {1, 2, 0, 0, Math.max(0, length - 2)};
        float[] vectors = new float[owners.length * width];
        for (int i = 0; i < vectors.length; i++) {
            vectors[i] = (float) random.nextGaussian();
        }
        return new SourceWrites(4, owners, sites, positions, scope.create(vectors, new Shape(owners.length, width)));
    }

    private static int[][] allPairs(int targets, int sources) {
        int[][] pairs = new int[2][targets * sources];
        for (int t = 0; t < targets; t++) {
            for (int s = 0; s < sources; s++) {
                pairs[0][t * sources + s] = t;
                pairs[1][t * sources + s] = s;
            }
        }
        return pairs;
    }

    /** {@code Σ over the source's writes ⟨gradient at the write, vector⟩} for every edge. */
    private static double[] directEffects(VjpResult gradients, SourceWrites sources, int[][] edges) {
        double[] effects = new double[edges[0].length];
        int[] owners = sources.owners();
        int[] positions = sources.positions();
        for (int e = 0; e < effects.length; e++) {
            for (int w = 0; w < sources.writes(); w++) {
                if (owners[w] != edges[1][e] || positions[w] >= gradients.positions()) {
                    continue;
                }
                NDArray gradient = sources.atEmbedding(w) ? gradients.embeddingGradient()
                        : gradients.writeSiteGradient(sources.sites().get(w).layer().getAsInt()).orElse(null);
                if (gradient != null) {
                    effects[e] += dot(gradient.get(edges[0][e]).get(positions[w]), sources.vectors().get(w));
                }
            }
        }
        return effects;
    }

    // ---------------------------------------------------------------- generation

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelDirectories")
    void cachedGenerationEqualsRecomputationWithTheSameHooks(String name, Path dir) {
        TransformerModel model = opened.get(dir);
        TokenSequence prompt = prompt(model);
        if (!requireOrExpectMissing(model, BackendCapability.KV_CACHE, () -> model.generate(manager,
                new GenerationRequest(prompt, 2, Sampling.greedy(), Set.of(), List.of())))) {
            return;
        }
        try (NDManager scope = manager.newSubManager()) {
            NDArray steer = scope.randomNormal(new Shape(model.config().modelWidth())).mul(3);
            for (List<Hook> hooks : List.of(List.<Hook>of(),
                    List.<Hook>of(new Hook.Add(HookSite.of(SiteKind.RESID_PRE, 0), Positions.from(2), steer)))) {
                GenerationResult generated = model.generate(scope,
                        new GenerationRequest(prompt, 5, Sampling.greedy(), Set.of(), hooks));
                int[] all = generated.tokens().ids();
                int steps = all.length - prompt.length();
                assertThat(steps).isBetween(1, 5);
                assertThat(generated.stepLogits().getShape().get(0)).isEqualTo(steps);
                for (int step = 0; step < steps; step++) {
                    TokenSequence prefix = new TokenSequence(java.util.Arrays.copyOf(all, prompt.length() + step));
                    NDArray logits = model.forward(scope, prefix, hooks).logits();
                    NDArray last = logits.get(prefix.length() - 1);
                    assertClose(generated.stepLogits().get(step), last, tolerance());
                    assertThat(all[prefix.length()]).as("greedy token at step %d", step)
                            .isEqualTo((int) last.argMax().getLong());
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelDirectories")
    void seededSamplingIsReproducible(String name, Path dir) {
        TransformerModel model = opened.get(dir);
        assumeTrue(model.capabilities().contains(BackendCapability.KV_CACHE));
        try (NDManager scope = manager.newSubManager()) {
            Sampling sampling = new Sampling(1.0, 20, 0.9, 1234);
            GenerationRequest request = new GenerationRequest(prompt(model), 6, sampling, Set.of(), List.of());
            assertThat(model.generate(scope, request).tokens()).isEqualTo(model.generate(scope, request).tokens());
        }
    }

    // ---------------------------------------------------------------- the oracle

    private void checkVjpAgainstPerturbations(TransformerModel model, LinearizationSpec spec) {
        Random random = new Random(11);
        try (NDManager scope = manager.newSubManager();
             LinearizedModel linear = model.linearize(scope, prompt(model), spec)) {
            TokenSequence tokens = linear.tokens();
            int layers = model.config().layers();
            VjpSeeds seeds = seeds(scope, model, tokens.length(), random);
            VjpResult result = linear.vjp(scope, seeds);
            assertThat(result.positions()).isEqualTo(seeds.positionBound());
            FrozenForward frozen = new FrozenForward(scope, model, tokens, spec);
            int[] seedPositions = seeds.positions();
            for (int i = 0; i < seeds.lanes(); i++) {
                final int lane = i;
                SeedSite seed = seeds.sites().get(lane);
                int bound = seed.depth(layers);
                NDArray vector = seeds.vectors().get(lane);
                double base = frozen.scalar(List.of(), seed, vector);
                for (int trial = 0; trial < 4; trial++) {
                    int position = random.nextInt(seedPositions[lane] + 1);
                    NDArray v = scope.randomNormal(new Shape(1, model.config().modelWidth()));
                    // a write site below the seed: the effect must equal the gradient's prediction
                    if (bound > 0) {
                        int layer = random.nextInt(bound);
                        HookSite site = HookSite.of(spec.writeSite(), layer);
                        double moved = frozen.scalar(List.of(new Hook.Add(site, Positions.at(position), v)), seed,
                                vector) - base;
                        double predicted = result.writeSiteGradient(layer)
                                .map(g -> dot(g.get(lane).get(position), v)).orElse(0.0);
                        assertLinear(moved, predicted, base, "%s, seed %d, source %s at %d", spec, lane, site, position);
                    }
                    // the token embeddings
                    double moved = frozen.scalar(List.of(new Hook.Add(HookSite.global(SiteKind.EMBED),
                            Positions.at(position), v)), seed, vector) - base;
                    double predicted = dot(result.embeddingGradient().get(lane).get(position), v);
                    assertLinear(moved, predicted, base, "%s, seed %d, embedding at %d", spec, lane, position);
                }
                // at or above the seed's layer nothing can reach it
                if (bound < layers) {
                    HookSite above = HookSite.of(spec.writeSite(), bound);
                    NDArray v = scope.randomNormal(new Shape(1, model.config().modelWidth()));
                    double moved = frozen.scalar(List.of(new Hook.Add(above, Positions.at(seedPositions[lane]), v)),
                            seed, vector) - base;
                    assertThat(Math.abs(moved)).as("write site %s cannot affect seed %d", above, lane)
                            .isLessThanOrEqualTo(tolerance() * Math.max(1, Math.abs(base)));
                    assertThat(result.writeSiteGradient(bound).map(g -> maxAbs(g.get(lane))).orElse(0.0)).isZero();
                }
            }
        }
    }

    private void assertLinear(double moved, double predicted, double base, String what, Object... args) {
        double scale = Math.max(1, Math.max(Math.abs(base), Math.abs(predicted)));
        assertThat(Math.abs(moved - predicted)).as("effect %s vs gradient %s for " + String.format(what, args),
                moved, predicted).isLessThanOrEqualTo(tolerance() * scale);
    }

    /** The frozen forward pass: clean patterns, scales and write sites (plus the skip map's change). */
    private final class FrozenForward {
        private final NDManager scope;
        private final TransformerModel model;
        private final TokenSequence tokens;
        private final LinearizationSpec spec;
        private final ForwardResult clean;

        FrozenForward(NDManager scope, TransformerModel model, TokenSequence tokens, LinearizationSpec spec) {
            this.scope = scope;
            this.model = model;
            this.tokens = tokens;
            this.spec = spec;
            List<HookSite> sites = new ArrayList<>(frozenSites(model));
            for (int layer = 0; layer < model.config().layers(); layer++) {
                sites.add(HookSite.of(spec.readSite(), layer));
                sites.add(HookSite.of(spec.writeSite(), layer));
            }
            this.clean = captureAll(scope, model, tokens, sites);
        }

        double scalar(List<Hook> perturbations, SeedSite seed, NDArray vector) {
            HookSite target = hookSite(seed);
            ForwardResult result = run(perturbations, Map.of(), List.of(target));
            return dot(result.capturedAt(target).get(seed.position()), vector);
        }

        /** The hook site a seed reads: the dictionary's read site of its layer, or {@code unembed.hook_in}. */
        private HookSite hookSite(SeedSite seed) {
            return seed instanceof SeedSite.ReadSite read ? HookSite.of(spec.readSite(), read.layer())
                    : HookSite.global(SiteKind.UNEMBED_IN);
        }

        /**
         * {@code [lane][source]}: what each source's writes move each seeded scalar by, with the frozen values of
         * {@code overrides} in place of the clean ones.
         */
        double[][] edges(Map<HookSite, NDArray> overrides, VjpSeeds seeds, SourceWrites sources) {
            int[] at = seeds.positions();
            List<HookSite> read = seeds.sites().stream().map(this::hookSite).toList();
            List<HookSite> distinct = read.stream().distinct().toList();
            double[] base = lanes(run(List.of(), overrides, distinct), read, at, seeds);
            double[][] edges = new double[seeds.lanes()][sources.sources()];
            int[] owners = sources.owners();
            int[] positions = sources.positions();
            for (int s = 0; s < sources.sources(); s++) {
                List<Hook> writes = new ArrayList<>();
                for (int w = 0; w < sources.writes(); w++) {
                    if (owners[w] == s) {
                        writes.add(new Hook.Add(sources.sites().get(w), Positions.at(positions[w]),
                                sources.vectors().get(w).reshape(1, -1)));
                    }
                }
                double[] moved = lanes(run(writes, overrides, distinct), read, at, seeds);
                for (int lane = 0; lane < seeds.lanes(); lane++) {
                    edges[lane][s] = moved[lane] - base[lane];
                }
            }
            return edges;
        }

        /** Hooks adding source {@code s}'s writes. */
        List<Hook> writesOf(SourceWrites sources, int s) {
            List<Hook> writes = new ArrayList<>();
            int[] owners = sources.owners();
            int[] positions = sources.positions();
            for (int w = 0; w < sources.writes(); w++) {
                if (owners[w] == s) {
                    writes.add(new Hook.Add(sources.sites().get(w), Positions.at(positions[w]),
                            sources.vectors().get(w).reshape(1, -1)));
                }
            }
            return writes;
        }

        /** The frozen pass with {@code live}'s pattern computed, not replaced; captures {@code live} and {@code also}. */
        ForwardResult runLive(List<Hook> perturbations, HookSite live, HookSite also) {
            List<Hook> hooks = new ArrayList<>();
            for (HookSite site : frozenSites(model)) {
                if (!site.equals(live)) {
                    hooks.add(new Hook.Replace(site, Positions.all(), clean.capturedAt(site)));
                }
            }
            for (int layer = 0; layer < model.config().layers(); layer++) {
                HookSite write = HookSite.of(spec.writeSite(), layer);
                hooks.add(new Hook.Replace(write, Positions.all(), clean.capturedAt(write)));
            }
            hooks.addAll(perturbations);
            hooks.add(new Hook.Capture(live));
            hooks.add(new Hook.Capture(also));
            return model.forward(scope, tokens, hooks);
        }

        private double[] lanes(ForwardResult result, List<HookSite> read, int[] at, VjpSeeds seeds) {
            double[] values = new double[read.size()];
            for (int lane = 0; lane < values.length; lane++) {
                values[lane] = dot(result.capturedAt(read.get(lane)).get(at[lane]), seeds.vectors().get(lane));
            }
            return values;
        }

        private ForwardResult run(List<Hook> perturbations, Map<HookSite, NDArray> overrides,
                                  List<HookSite> captured) {
            List<Hook> hooks = new ArrayList<>();
            for (HookSite site : frozenSites(model)) {
                hooks.add(new Hook.Replace(site, Positions.all(), overrides.getOrDefault(site, clean.capturedAt(site))));
            }
            for (int layer = 0; layer < model.config().layers(); layer++) {
                HookSite read = HookSite.of(spec.readSite(), layer);
                HookSite write = HookSite.of(spec.writeSite(), layer);
                NDArray cleanWrite = clean.capturedAt(write);
                LinearMap skip = spec.skipByLayer().get(layer);
                if (skip == null) {
                    hooks.add(new Hook.Replace(write, Positions.all(), cleanWrite));
                } else {
                    // out = clean + skip(x) − skip(x_clean): only the skip path stays live
                    NDArray[] input = new NDArray[1];
                    NDArray cleanSkip = skip.apply(clean.capturedAt(read));
                    hooks.add(new Hook.Transform(read, x -> {
                        input[0] = x;
                        return x;
                    }));
                    hooks.add(new Hook.Transform(write, y -> cleanWrite.add(skip.apply(input[0]).sub(cleanSkip))));
                }
            }
            hooks.addAll(perturbations);
            captured.forEach(site -> hooks.add(new Hook.Capture(site)));
            return model.forward(scope, tokens, hooks);
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Linearisation specs to test: each read site × write site the model has, with a random skip if asked. */
    private List<LinearizationSpec> specs(TransformerModel model, boolean withSkip) {
        List<LinearizationSpec> specs = new ArrayList<>();
        Set<SiteKind> kinds = new java.util.HashSet<>();
        model.sites().forEach(s -> kinds.add(s.kind()));
        for (SiteKind read : List.of(SiteKind.MLP_IN, SiteKind.RESID_MID, SiteKind.LN2_NORMALIZED)) {
            for (SiteKind write : List.of(SiteKind.MLP_OUT, SiteKind.MLP_OUT_RAW)) {
                if (kinds.contains(read) && kinds.contains(write)) {
                    specs.add(new LinearizationSpec(read, write, Map.of()));
                }
            }
        }
        assertThat(specs).as("the model exposes dictionary read and write sites").isNotEmpty();
        if (withSkip) {
            LinearizationSpec first = specs.get(0);
            int d = model.config().modelWidth();
            Map<Integer, LinearMap> skips = new HashMap<>();
            for (int layer = 0; layer < model.config().layers(); layer += 2) {
                skips.put(layer, new MatrixSkip(manager.randomNormal(new Shape(d, d)).mul(0.1)));
            }
            specs.add(new LinearizationSpec(first.readSite(), first.writeSite(), skips));
        }
        return specs;
    }

    /** Three seeds: a logit direction at the last position, the top layer, and a lower layer mid-prompt. */
    private static VjpSeeds seeds(NDManager scope, TransformerModel model, int length, Random random) {
        int layers = model.config().layers();
        List<SeedSite> sites = List.of(new SeedSite.Unembedding(length - 1), new SeedSite.ReadSite(layers - 1, length - 2),
                new SeedSite.ReadSite(Math.min(1, layers - 1), Math.min(3, length - 1)));
        float[] vectors = new float[3 * model.config().modelWidth()];
        for (int i = 0; i < vectors.length; i++) {
            vectors[i] = (float) random.nextGaussian();
        }
        return new VjpSeeds(sites, scope.create(vectors, new Shape(3, model.config().modelWidth())));
    }

    private static List<HookSite> frozenSites(TransformerModel model) {
        return model.sites().stream().filter(s -> s.kind() == SiteKind.ATTN_PATTERN || s.kind().name().endsWith("_SCALE"))
                .toList();
    }

    private static ForwardResult captureAll(NDManager scope, TransformerModel model, TokenSequence tokens,
                                            List<HookSite> sites) {
        return model.forward(scope, tokens, sites.stream().<Hook>map(Hook.Capture::new).toList());
    }

    /** Runs {@code call} if the capability is declared (returns true); otherwise checks the standard error. */
    private static boolean requireOrExpectMissing(TransformerModel model, BackendCapability capability, Runnable call) {
        if (model.capabilities().contains(capability)) {
            return true;
        }
        assertThatThrownBy(call::run).isInstanceOfSatisfying(CircuitTracerException.class,
                e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MISSING_CAPABILITY))
                .hasMessageContaining("does not support " + capability.name());
        return false;
    }

    private static double dot(NDArray a, NDArray b) {
        float[] x = a.toFloatArray();
        float[] y = b.toFloatArray();
        assertThat(x).hasSameSizeAs(y);
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            sum += (double) x[i] * y[i];
        }
        return sum;
    }

    private static double maxAbs(NDArray a) {
        double max = 0;
        for (float v : a.toFloatArray()) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }

    private static void assertClose(NDArray actual, NDArray expected, double relative) {
        assertThat(actual.getShape()).isEqualTo(expected.getShape());
        float[] a = actual.toFloatArray();
        float[] e = expected.toFloatArray();
        double scale = 1;
        for (float v : e) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < a.length; i++) {
            assertThat((double) Math.abs(a[i] - e[i])).as("element %d: %s vs %s", i, a[i], e[i])
                    .isLessThanOrEqualTo(relative * scale + 1e-6);
        }
    }

    /** A dense skip map {@code x ↦ x·Wᵀ} for the skip-path check. */
    private record MatrixSkip(NDArray weight) implements LinearMap {
        @Override
        public int inputWidth() {
            return (int) weight.getShape().get(1);
        }

        @Override
        public int outputWidth() {
            return (int) weight.getShape().get(0);
        }

        @Override
        public NDArray apply(NDArray x) {
            return x.matMul(weight.transpose());
        }

        @Override
        public NDArray applyAdjoint(NDArray gradient) {
            return gradient.matMul(weight);
        }
    }
}
