package org.circuittracer.attribution.intervention;

import org.circuittracer.attribution.TinyFixtures;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.circuittracer.attribution.exact.ExactAttributorProvider;
import org.circuittracer.attribution.replacement.ReplacementActivations;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.attribution.AttributorOptions;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.EdgeMatrix;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.Positions;
import org.circuittracer.spi.model.Sampling;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Interventions on the tiny llama with per-layer, cross-layer and skip transcoders, and on the tiny Gemma 3. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InterventionsTest {

    private static final List<String> DICTIONARIES = List.of("llama-plt-relu", "llama-clt-relu", "llama-plt-relu-skip",
            "gemma3-plt-relu");

    private TransformerModel model;
    private TransformerModel gemma3;
    private final Map<String, SparseDictionary> dictionaries = new HashMap<>();
    private NDManager manager;

    @BeforeAll
    void open() {
        model = TinyFixtures.openModel("llama");
        gemma3 = TinyFixtures.openModel("gemma3");
        for (String name : DICTIONARIES) {
            dictionaries.put(name, TinyFixtures.openDictionary(name));
        }
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    void close() {
        manager.close();
        dictionaries.values().forEach(SparseDictionary::close);
        model.close();
        gemma3.close();
    }

    private ReplacementModel replacement(String dictionary) {
        return ReplacementModel.of(modelOf(dictionary), dictionaries.get(dictionary));
    }

    /** The fixture model a transcoder set was made for: the architecture its name starts with. */
    private TransformerModel modelOf(String dictionary) {
        return dictionary.startsWith("gemma3") ? gemma3 : model;
    }

    private static TokenSequence prompt(String dictionary) {
        return TinyFixtures.prompt(dictionary.substring(0, dictionary.indexOf('-')), 0);
    }

    Stream<String> dictionaryNames() {
        return DICTIONARIES.stream();
    }

    private List<InterventionOptions> everyMode(String dictionary) {
        int layers = modelOf(dictionary).config().layers();
        return List.of(InterventionOptions.defaults(), InterventionOptions.free(),
                InterventionOptions.constrained(1, layers - 1), InterventionOptions.directEffects(layers));
    }

    @ParameterizedTest
    @MethodSource("dictionaryNames")
    void settingEveryActiveFeatureToItsOwnValueChangesNothingInEveryMode(String dictionary) {
        ReplacementModel rm = replacement(dictionary);
        TokenSequence tokens = prompt(dictionary);
        try (NDManager scope = manager.newSubManager()) {
            ReplacementActivations clean = rm.activations(scope, tokens);
            List<Intervention> all = new ArrayList<>();
            for (SparseActivations layer : clean.features()) {
                for (int i = 0; i < layer.size(); i++) {
                    all.add(Intervention.set(layer.layer(), Positions.at(layer.positionAt(i)), layer.featureAt(i),
                            layer.valueAt(i)));
                }
            }
            assertThat(all).hasSizeGreaterThan(20);
            float[] expected = clean.logits().toFloatArray();
            for (InterventionOptions options : everyMode(dictionary)) {
                InterventionResult result = Interventions.intervene(scope, rm, tokens, all, options);
                float[] actual = result.logits().toFloatArray();
                assertThat(actual).as("%s", options).containsExactly(expected, within(2e-5f));
                assertThat(result.activations()).hasSize(rm.layers());
                for (int l = 0; l < rm.layers(); l++) {
                    SparseActivations a = result.activations().get(l);
                    SparseActivations b = clean.features().get(l);
                    assertThat(a.positions()).as("%s layer %d", options, l).isEqualTo(b.positions());
                    assertThat(a.values()).containsExactly(b.values(), within(1e-4f));
                }
            }
        }
    }

    /**
     * With every layer constrained the model is the linearised one: setting a source from {@code a} to {@code a + δ}
     * changes a downstream pre-activation by exactly {@code A[target, source] · δ / a}.
     */
    @ParameterizedTest
    @MethodSource("dictionaryNames")
    void directEffectsEqualAttributionEdges(String dictionary) {
        ReplacementModel rm = replacement(dictionary);
        TokenSequence tokens = prompt(dictionary);
        AttributionGraph graph = new ExactAttributorProvider().create(AttributorOptions.none(ExactAttributorProvider.NAME)).attribute(new AttributionRequest(modelOf(dictionary),
                rm.dictionary(), tokens, AttributionTargets.Salient.defaults(), 0, 64, 4), AttributionListener.NONE);
        List<Node.FeatureNode> features = graph.selected();
        EdgeMatrix a = graph.adjacency();
        int bestTarget = -1;
        int bestSource = -1;
        for (int t = 0; t < features.size(); t++) {
            for (int i = 0; i < a.rowSize(t); i++) {
                int s = a.columnAt(t, i);
                if (s < features.size() && features.get(s).layer() < features.get(t).layer()
                        && (bestTarget < 0 || Math.abs(a.weightAt(t, i)) > Math.abs(a.get(bestTarget, bestSource)))) {
                    bestTarget = t;
                    bestSource = s;
                }
            }
        }
        assertThat(bestTarget).isNotNegative();
        Node.FeatureNode source = features.get(bestSource);
        Node.FeatureNode target = features.get(bestTarget);
        float edge = a.get(bestTarget, bestSource);
        float delta = 0.5f * source.activation();
        InterventionOptions options = InterventionOptions.directEffects(rm.layers()).withActivationFunction(false);
        try (NDManager scope = manager.newSubManager()) {
            float before = Interventions.intervene(scope, rm, tokens, List.of(), options)
                    .activation(target.layer(), target.position(), target.feature());
            float after = Interventions.intervene(scope, rm, tokens, List.of(Intervention.set(source.layer(),
                    Positions.at(source.position()), source.feature(), source.activation() + delta)), options)
                    .activation(target.layer(), target.position(), target.feature());
            double expected = edge * delta / source.activation();
            assertThat(Math.abs(expected)).isGreaterThan(1e-3);
            assertThat((double) (after - before)).isCloseTo(expected, within(1e-3 * Math.abs(expected) + 1e-5));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-plt-relu", "llama-clt-relu", "gemma3-plt-relu"})
    void ablatingAStrongFeatureChangesTheLogitsAndIterativeDiffersFromConstrained(String dictionary) {
        ReplacementModel rm = replacement(dictionary);
        TokenSequence tokens = prompt(dictionary);
        int last = tokens.length() - 1;
        try (NDManager scope = manager.newSubManager()) {
            ReplacementActivations clean = rm.activations(scope, tokens);
            SparseActivations layer0 = clean.features().get(0);
            int strongest = -1;
            for (int i = 0; i < layer0.size(); i++) {
                if (layer0.positionAt(i) == last && (strongest < 0 || layer0.valueAt(i) > layer0.valueAt(strongest))) {
                    strongest = i;
                }
            }
            List<Intervention> ablate = List.of(Intervention.scale(0, Positions.at(last), layer0.featureAt(strongest), 0));
            float[] cleanLogits = clean.logits().get(last).toFloatArray();
            InterventionResult iterative = Interventions.intervene(scope, rm, tokens, ablate,
                    InterventionOptions.defaults());
            InterventionResult constrained = Interventions.intervene(scope, rm, tokens, ablate,
                    InterventionOptions.constrained(0, rm.layers()));
            float[] iterativeLogits = iterative.logits().get(last).toFloatArray();
            assertThat(maxDifference(iterativeLogits, cleanLogits)).isGreaterThan(1e-3);
            // downstream features respond in iterative patching, and their response reaches the logits
            assertThat(maxDifference(iterative.activations().get(2).values(), clean.features().get(2).values()))
                    .isGreaterThan(1e-4);
            assertThat(maxDifference(iterativeLogits, constrained.logits().get(last).toFloatArray())).isGreaterThan(1e-4);
            // a per-layer write outside the constrained layers is never applied
            if (dictionary.equals("llama-plt-relu")) {
                float[] outside = Interventions.intervene(scope, rm, tokens, ablate,
                        InterventionOptions.constrained(1, rm.layers())).logits().get(last).toFloatArray();
                assertThat(outside).containsExactly(cleanLogits, within(2e-5f));
            }
        }
    }

    /**
     * A cross-layer write is truncated to the constrained layers: constraining layer 0 only, ablating a layer-0 feature
     * equals the plain model with frozen patterns plus {@code −a × decoderRow(0, f, 0)} added at layer 0's output.
     */
    @Test
    void crossLayerWritesAreTruncatedToTheConstrainedLayers() {
        ReplacementModel rm = replacement("llama-clt-relu");
        assertThat(rm.dictionary().outputLayers(0)).hasSizeGreaterThan(1);
        TokenSequence tokens = TinyFixtures.prompt("llama", 0);
        int last = tokens.length() - 1;
        try (NDManager scope = manager.newSubManager()) {
            SparseActivations layer0 = rm.activations(scope, tokens).features().get(0);
            int strongest = 0;
            for (int i = 1; i < layer0.size(); i++) {
                strongest = layer0.valueAt(i) > layer0.valueAt(strongest) ? i : strongest;
            }
            int position = layer0.positionAt(strongest);
            int feature = layer0.featureAt(strongest);
            float[] actual = Interventions.intervene(scope, rm, tokens, List.of(Intervention.scale(0,
                    Positions.at(position), feature, 0)), InterventionOptions.constrained(0, 1)).logits().get(last)
                    .toFloatArray();
            List<Hook> captures = new ArrayList<>();
            for (int l = 0; l < rm.layers(); l++) {
                captures.add(new Hook.Capture(HookSite.of(SiteKind.ATTN_PATTERN, l)));
            }
            var clean = model.forward(scope, tokens, captures).captured();
            List<Hook> hooks = new ArrayList<>();
            clean.forEach((site, pattern) -> hooks.add(new Hook.Replace(site,
                    Positions.all(), pattern)));
            hooks.add(new Hook.Add(rm.dictionary().writeSites().get(0),
                    Positions.at(position), rm.dictionary().decoderRows(scope, 0, new int[] {feature}, 0)
                    .mul(-layer0.valueAt(strongest))));
            float[] expected = model.forward(scope, tokens, hooks).logits().get(last).toFloatArray();
            assertThat(actual).containsExactly(expected, within(1e-4f));
            float[] unconstrained = Interventions.intervene(scope, rm, tokens, List.of(Intervention.scale(0,
                    Positions.at(position), feature, 0)), InterventionOptions.directEffects(rm.layers())).logits()
                    .get(last).toFloatArray();
            assertThat(maxDifference(actual, unconstrained)).isGreaterThan(1e-4);
        }
    }

    /**
     * Free patching with an open-ended intervention: each step's logits (computed on the key/value cache) equal an
     * intervened forward over the whole generated sequence; in iterative patching the first step equals the
     * intervened prompt pass.
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama-plt-relu", "llama-clt-relu", "gemma3-plt-relu"})
    void steeredGenerationWithTheCacheEqualsRecomputation(String dictionary) {
        ReplacementModel rm = replacement(dictionary);
        TokenSequence tokens = prompt(dictionary);
        try (NDManager scope = manager.newSubManager()) {
            ReplacementActivations clean = rm.activations(scope, tokens);
            SparseActivations layer1 = clean.features().get(1);
            int strongest = 0;
            for (int i = 1; i < layer1.size(); i++) {
                strongest = layer1.valueAt(i) > layer1.valueAt(strongest) ? i : strongest;
            }
            List<Intervention> steer = List.of(Intervention.scale(1, Positions.from(2), layer1.featureAt(strongest), 4),
                    Intervention.set(0, Positions.from(tokens.length()), 3, 2.5));
            SteeredGeneration free = Interventions.generate(scope, rm, tokens, steer, InterventionOptions.free(), 4,
                    Sampling.greedy(), 5);
            int[] generated = free.steered().tokens().ids();
            assertThat(generated.length).isGreaterThan(tokens.length() + 2);
            assertThat(free.steered().steps()).hasSize(generated.length - tokens.length());
            TokenSequence fed = new TokenSequence(Arrays.copyOf(generated, generated.length - 1));
            InterventionResult recomputed = Interventions.intervene(scope, rm, fed, steer, InterventionOptions.free());
            for (int step = 0; step < free.steered().steps().size(); step++) {
                SteeredGeneration.TopLogits top = free.steered().steps().get(step);
                float[] row = recomputed.logits().get(tokens.length() - 1 + step).toFloatArray();
                assertThat(top.chosen()).isEqualTo(generated[tokens.length() + step]).isEqualTo(top.tokenIds()[0]);
                for (int k = 0; k < top.tokenIds().length; k++) {
                    assertThat(top.logits()[k]).as("step %d rank %d", step, k).isCloseTo(row[top.tokenIds()[k]],
                            within(1e-4f));
                }
            }
            // the unsteered run is the plain model
            SteeredGeneration.TopLogits plain = free.unsteered().steps().get(0);
            float[] cleanLast = clean.logits().get(tokens.length() - 1).toFloatArray();
            assertThat(plain.logits()[0]).isCloseTo(cleanLast[plain.tokenIds()[0]], within(1e-4f));
            // probabilities: the softmax over the whole vocabulary
            double denominator = 0;
            for (float v : cleanLast) {
                denominator += Math.exp(v);
            }
            for (int k = 0; k < plain.tokenIds().length; k++) {
                assertThat(plain.probability(k)).as("rank %d", k).isCloseTo(Math.exp(cleanLast[plain.tokenIds()[k]])
                        / denominator, within(1e-4));
            }
            assertThat(free.unsteered().text()).startsWith(modelOf(dictionary).tokenizer().decode(tokens.ids(), false));

            SteeredGeneration iterative = Interventions.generate(scope, rm, tokens, steer,
                    InterventionOptions.defaults(), 2, Sampling.greedy(), 5);
            // the second intervention starts after the prompt, so the prompt pass does not see it
            float[] prompt = Interventions.intervene(scope, rm, tokens, steer.subList(0, 1),
                    InterventionOptions.defaults())
                    .logits().get(tokens.length() - 1).toFloatArray();
            SteeredGeneration.TopLogits first = iterative.steered().steps().get(0);
            for (int k = 0; k < first.tokenIds().length; k++) {
                assertThat(first.logits()[k]).isCloseTo(prompt[first.tokenIds()[k]], within(1e-4f));
            }
        }
    }

    @Test
    void watchedTokensAreReportedExactlyWhateverTheirRank() {
        ReplacementModel rm = replacement("llama-plt-relu");
        TokenSequence tokens = TinyFixtures.prompt("llama", 0);
        try (NDManager scope = manager.newSubManager()) {
            float[] clean = rm.activations(scope, tokens).logits().get(tokens.length() - 1).toFloatArray();
            // the least likely token of the plain model's first step: far outside any top k
            int last = 0;
            for (int t = 1; t < clean.length; t++) {
                last = clean[t] < clean[last] ? t : last;
            }
            List<Intervention> steer = List.of(Intervention.set(0, Positions.at(1), 3, 2.5));
            SteeredGeneration g = Interventions.generate(scope, rm, tokens, steer, InterventionOptions.defaults(), 2,
                    Sampling.greedy(), 3, new int[] {last, 5});
            SteeredGeneration.TopLogits plain = g.unsteered().steps().get(0);
            assertThat(plain.tokenIds()).doesNotContain(last);
            assertThat(plain.watchedIds()).containsExactly(last, 5);
            assertThat(plain.watchedLogit(last)).isCloseTo(clean[last], within(1e-4));
            assertThat(plain.watchedLogit(5)).isCloseTo(clean[5], within(1e-4));
            assertThat(plain.watchedProbability(last)).isCloseTo(Math.exp(clean[last] - Interventions.logSumExp(clean)),
                    within(1e-9));
            assertThat(plain.watchedLogit(6)).isNaN();
            float[] steered = Interventions.intervene(scope, rm, tokens, steer, InterventionOptions.defaults())
                    .logits().get(tokens.length() - 1).toFloatArray();
            assertThat(g.steered().steps().get(0).watchedLogit(last)).isCloseTo(steered[last], within(1e-4));
            assertInvalid(() -> Interventions.generate(scope, rm, tokens, steer, InterventionOptions.defaults(), 1,
                    Sampling.greedy(), 3, new int[] {clean.length}), "vocabulary");
        }
    }

    @Test
    void badInterventionsAreRejectedWithClearMessages() {
        ReplacementModel rm = replacement("llama-plt-relu");
        TokenSequence tokens = TinyFixtures.prompt("llama", 0);
        int t = tokens.length();
        int layers = rm.layers();
        int features = rm.dictionary().features(0);
        try (NDManager scope = manager.newSubManager()) {
            assertInvalid(() -> intervene(rm, scope, tokens, Intervention.set(layers, Positions.at(1), 0, 1)),
                    "names layer " + layers + ", but the dictionary");
            assertInvalid(() -> intervene(rm, scope, tokens, Intervention.set(-1, Positions.at(1), 0, 1)),
                    "names layer -1");
            assertInvalid(() -> intervene(rm, scope, tokens, Intervention.set(0, Positions.at(1), features, 1)),
                    "has features 0 to " + (features - 1));
            assertInvalid(() -> intervene(rm, scope, tokens, Intervention.set(0, Positions.at(t), 0, 1)),
                    "outside the sequence");
            assertInvalid(() -> intervene(rm, scope, tokens, Intervention.set(0, Positions.range(1, t + 1), 0, 1)),
                    "stops at position " + (t + 1));
            assertInvalid(() -> intervene(rm, scope, tokens, Intervention.set(0, Positions.from(t), 0, 1)),
                    "starts at position " + t);
            assertInvalid(() -> intervene(rm, scope, tokens, Intervention.set(0, Positions.range(3, 3), 0, 1)),
                    "selects no position");
            assertInvalid(() -> Intervention.set(0, Positions.at(1), 0, Double.NaN), "finite");
            assertInvalid(() -> Interventions.intervene(scope, rm, tokens, List.of(Intervention.set(0,
                    Positions.at(1), 0, 1)), InterventionOptions.constrained(0, layers + 1)), "constrained layers");
            assertInvalid(() -> Interventions.generate(scope, rm, tokens, List.of(Intervention.set(0,
                    Positions.range(0, t + 2), 0, 1)), InterventionOptions.defaults(), 2, Sampling.greedy()),
                    "stops at position");
        }
    }

    private static void intervene(ReplacementModel rm, NDManager scope, TokenSequence tokens, Intervention iv) {
        Interventions.intervene(scope, rm, tokens, List.of(iv), InterventionOptions.defaults());
    }

    private static void assertInvalid(Runnable call, String message) {
        assertThatThrownBy(call::run).isInstanceOf(CircuitTracerException.class)
                .satisfies(e -> assertThat(((CircuitTracerException) e).errorCode())
                        .isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining(message);
    }

    private static double maxDifference(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return a.length == b.length ? max : Double.POSITIVE_INFINITY;
    }
}
