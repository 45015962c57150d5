package org.circuittracer.backend.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.exact.ExactAttributor;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.ForwardResult;
import org.circuittracer.spi.model.GenerationRequest;
import org.circuittracer.spi.model.GenerationResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.Positions;
import org.circuittracer.spi.model.Sampling;
import org.circuittracer.spi.model.SeedSite;
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
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The onnx backend against the djl backend on the same weights: interventions, the VJP, generations and whole
 * attribution graphs must agree to a relative error of 1e-4.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BackendParityTest {

    static final double TOLERANCE = 1e-4;

    private final Map<String, TransformerModel> onnx = new HashMap<>();
    private final Map<String, TransformerModel> djl = new HashMap<>();
    private NDManager manager;

    @BeforeAll
    void open() {
        manager = NDManager.newBaseManager();
        for (String architecture : TinyOnnxModels.ARCHITECTURES) {
            onnx.put(architecture, TinyOnnxModels.onnx(architecture));
            djl.put(architecture, TinyOnnxModels.djl(architecture));
        }
    }

    @AfterAll
    void close() {
        onnx.values().forEach(TransformerModel::close);
        djl.values().forEach(TransformerModel::close);
        manager.close();
    }

    static List<String> architectures() {
        return TinyOnnxModels.ARCHITECTURES;
    }

    static List<TinyFixtures.Pair> pairs() {
        return TinyFixtures.PAIRS;
    }

    @ParameterizedTest
    @MethodSource("architectures")
    void interventionsAtMlpAndOtherSitesEqualTheDjlBackend(String architecture) {
        TransformerModel a = onnx.get(architecture);
        TransformerModel b = djl.get(architecture);
        try (NDManager scope = manager.newSubManager()) {
            TokenSequence prompt = TinyOnnxModels.prompt(architecture, 1);
            int d = a.config().modelWidth();
            int last = a.config().layers() - 1;
            NDArray steer = scope.randomNormal(new Shape(d)).mul(2);
            NDArray rows = scope.randomNormal(new Shape(3, d));
            HookSite mlpOut = HookSite.of(SiteKind.MLP_OUT, 0);
            HookSite pattern = HookSite.of(SiteKind.ATTN_PATTERN, last);
            NDArray uniform = scope.ones(new Shape(a.config().heads(), 1, prompt.length())).div(prompt.length());
            List<Hook> hooks = List.of(
                    new Hook.Capture(mlpOut),
                    new Hook.Add(mlpOut, Positions.from(2), steer),
                    new Hook.Capture(mlpOut),
                    new Hook.Replace(HookSite.of(SiteKind.MLP_IN, last), Positions.range(1, 4), rows),
                    new Hook.Replace(HookSite.of(SiteKind.MLP_OUT_RAW, last), Positions.at(-1), scope.zeros(new Shape(d))),
                    new Hook.Replace(pattern, Positions.at(prompt.length() - 1), uniform),
                    new Hook.Add(HookSite.of(SiteKind.LN2_SCALE, 0), Positions.all(), scope.ones(new Shape(1)).mul(0.5)),
                    new Hook.Capture(HookSite.of(SiteKind.RESID_POST, last)),
                    new Hook.Capture(pattern));
            ForwardResult x = a.forward(scope, prompt, hooks);
            ForwardResult y = b.forward(scope, prompt, hooks);
            double error = TinyOnnxModels.relativeError(x.logits().toFloatArray(), y.logits().toFloatArray());
            for (HookSite site : y.captured().keySet()) {
                error = Math.max(error, TinyOnnxModels.relativeError(x.capturedAt(site).toFloatArray(),
                        y.capturedAt(site).toFloatArray()));
            }
            System.out.printf("%s interventions: relative error vs djl %.2e%n", architecture, error);
            assertThat(error).isLessThanOrEqualTo(TOLERANCE);
            // the hooks did something
            double moved = TinyOnnxModels.relativeError(x.logits().toFloatArray(),
                    a.forward(scope, prompt, List.of()).logits().toFloatArray());
            assertThat(moved).isGreaterThan(1e-3);
        }
    }

    @ParameterizedTest
    @MethodSource("architectures")
    void vjpsEqualTheDjlBackend(String architecture) {
        TransformerModel a = onnx.get(architecture);
        TransformerModel b = djl.get(architecture);
        TokenSequence prompt = TinyOnnxModels.prompt(architecture, 2);
        boolean post = a.sites().contains(HookSite.of(SiteKind.LN2_POST_SCALE, 0));
        LinearizationSpec spec = new LinearizationSpec(post ? SiteKind.LN2_NORMALIZED : SiteKind.MLP_IN,
                post ? SiteKind.MLP_OUT : SiteKind.MLP_OUT_RAW, Map.of());
        try (NDManager scope = manager.newSubManager();
             LinearizedModel x = a.linearize(scope, prompt, spec);
             LinearizedModel y = b.linearize(scope, prompt, spec)) {
            int layers = a.config().layers();
            VjpSeeds seeds = new VjpSeeds(List.of(new SeedSite.Unembedding(prompt.length() - 1),
                    new SeedSite.ReadSite(layers - 1, prompt.length() - 2), new SeedSite.ReadSite(1, 5)),
                    scope.randomNormal(new Shape(3, a.config().modelWidth())));
            VjpResult p = x.vjp(scope, seeds);
            VjpResult q = y.vjp(scope, seeds);
            assertThat(p.writeSiteGradients().keySet()).isEqualTo(q.writeSiteGradients().keySet());
            double error = TinyOnnxModels.relativeError(p.embeddingGradient().toFloatArray(),
                    q.embeddingGradient().toFloatArray());
            for (int layer : q.writeSiteGradients().keySet()) {
                error = Math.max(error, TinyOnnxModels.relativeError(p.writeSiteGradients().get(layer).toFloatArray(),
                        q.writeSiteGradients().get(layer).toFloatArray()));
            }
            for (HookSite site : y.clean().keySet()) {
                error = Math.max(error, TinyOnnxModels.relativeError(x.clean().get(site).toFloatArray(),
                        y.clean().get(site).toFloatArray()));
            }
            System.out.printf("%s VJP: relative error vs djl %.2e%n", architecture, error);
            assertThat(error).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    @ParameterizedTest
    @MethodSource("architectures")
    void generationsEqualTheDjlBackend(String architecture) {
        TransformerModel a = onnx.get(architecture);
        TransformerModel b = djl.get(architecture);
        try (NDManager scope = manager.newSubManager()) {
            TokenSequence prompt = TinyOnnxModels.prompt(architecture, 1);
            NDArray steer = scope.randomNormal(new Shape(a.config().modelWidth())).mul(3);
            double error = 0;
            for (GenerationRequest request : List.of(
                    new GenerationRequest(prompt, 8, Sampling.greedy(), Set.of(), List.of()),
                    new GenerationRequest(prompt, 8, new Sampling(0.8, 20, 0.95, 42), Set.of(),
                            List.of(new Hook.Add(HookSite.of(SiteKind.MLP_OUT, 0), Positions.from(3), steer))))) {
                GenerationResult x = a.generate(scope, request);
                GenerationResult y = b.generate(scope, request);
                assertThat(x.tokens()).isEqualTo(y.tokens());
                error = Math.max(error, TinyOnnxModels.relativeError(x.stepLogits().toFloatArray(),
                        y.stepLogits().toFloatArray()));
            }
            System.out.printf("%s generation: relative error of step logits vs djl %.2e%n", architecture, error);
            assertThat(error).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    private static List<List<Integer>> features(List<Node.FeatureNode> nodes) {
        return nodes.stream().map(f -> List.of(f.layer(), f.position(), f.feature(), f.activeIndex())).toList();
    }

    private static float[] activations(List<Node.FeatureNode> nodes) {
        float[] values = new float[nodes.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = nodes.get(i).activation();
        }
        return values;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void attributionGraphsEqualTheDjlBackend(TinyFixtures.Pair pair) {
        TransformerModel a = onnx.get(pair.model());
        TransformerModel b = djl.get(pair.model());
        try (SparseDictionary dictionary = TinyFixtures.openDictionary(pair.dictionary())) {
            TokenSequence prompt = TinyOnnxModels.prompt(pair.model(), 0);
            ExactAttributor attributor = new ExactAttributor();
            AttributionGraph x = attributor.attribute(new AttributionRequest(a, dictionary, prompt,
                    AttributionTargets.Salient.defaults(), 0, 64, 4), AttributionListener.NONE);
            AttributionGraph y = attributor.attribute(new AttributionRequest(b, dictionary, prompt,
                    AttributionTargets.Salient.defaults(), 0, 64, 4), AttributionListener.NONE);
            assertThat(features(x.activeFeatures())).isEqualTo(features(y.activeFeatures()));
            assertThat(features(x.selected())).isEqualTo(features(y.selected()));
            double activations = TinyOnnxModels.relativeError(activations(x.activeFeatures()),
                    activations(y.activeFeatures()));
            assertThat(x.logits().stream().map(l -> l.vocabIndex()).toList())
                    .isEqualTo(y.logits().stream().map(l -> l.vocabIndex()).toList());
            int n = y.size();
            float[] dx = new float[n * n];
            float[] dy = new float[n * n];
            for (int t = 0; t < n; t++) {
                for (int s = 0; s < n; s++) {
                    dx[t * n + s] = x.adjacency().get(t, s);
                    dy[t * n + s] = y.adjacency().get(t, s);
                }
            }
            double error = TinyOnnxModels.relativeError(dx, dy);
            System.out.printf("%s: %d nodes, %d edges, relative error of the adjacency vs djl %.2e, of the "
                    + "activations %.2e%n", pair, n, y.adjacency().nonZeros(), error, activations);
            assertThat(error).isLessThanOrEqualTo(TOLERANCE);
            assertThat(activations).isLessThanOrEqualTo(TOLERANCE);
        }
    }
}
