package org.circuittracer.demo;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.circuittracer.attribution.attention.GraphHeadLoadings;
import org.circuittracer.attribution.attention.HeadLoadingPass;
import org.circuittracer.attribution.attention.QkPass;
import org.circuittracer.attribution.exact.ExactAttributor;
import org.circuittracer.attribution.intervention.Intervention;
import org.circuittracer.attribution.intervention.InterventionOptions;
import org.circuittracer.attribution.intervention.InterventionResult;
import org.circuittracer.attribution.intervention.Interventions;
import org.circuittracer.attribution.prune.GraphPruning;
import org.circuittracer.attribution.prune.PruneResult;
import org.circuittracer.attribution.replacement.ReplacementActivations;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.demo.corpus.DemoCorpus;
import org.circuittracer.demo.corpus.World;
import org.circuittracer.demo.recipe.DemoEvaluation;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.EdgeMatrix;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.Positions;
import org.circuittracer.spi.model.QkQuery;
import org.circuittracer.spi.model.TokenSequence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The two-hop case study on the committed demo artifacts: "the capital of the state containing Dallas" is answered
 * through Texas features at the city position, and swapping them for California features makes the model answer
 * with California's capital.
 */
class DallasCaseStudyTest {

    private static final String CITY = "Dallas";
    private static final String OTHER_CITY = "Oakland";

    private static DemoFixture demo;

    @BeforeAll
    static void open() {
        demo = DemoFixture.open();
    }

    @AfterAll
    static void close() {
        demo.close();
    }

    @Test
    void theModelAnswersTheTwoHopQuestion() {
        assertThat(DemoEvaluation.topToken(demo.model(), DemoCorpus.twoHopPrompt(CITY))).isEqualTo("Austin");
        assertThat(DemoEvaluation.topToken(demo.model(), DemoCorpus.twoHopPrompt(OTHER_CITY))).isEqualTo("Sacramento");
    }

    @Test
    void theGraphHasTexasFeaturesAtTheCityOnAPathToAustin() {
        ReplacementModel replacement = demo.perLayer();
        TokenSequence tokens = replacement.tokenize(DemoCorpus.twoHopPrompt(CITY));
        int city = demo.position(tokens, CITY);
        AttributionGraph graph = new ExactAttributor().attribute(new AttributionRequest(demo.model(),
                replacement.dictionary(), tokens, new AttributionTargets.TokenStrings(List.of("Austin")), 0, 256, 4),
                AttributionListener.NONE);
        PruneResult pruned = GraphPruning.prune(graph);
        boolean[] kept = pruned.nodeMask();

        List<Integer> texasNodes = new ArrayList<>();
        for (int i = 0; i < graph.selected().size(); i++) {
            Node.FeatureNode f = graph.selected().get(i);
            if (kept[i] && f.position() == city && demo.topics().isAbout(f.layer(), f.feature(), texasWords())) {
                texasNodes.add(i);
            }
        }
        System.out.printf("Dallas graph: %d nodes kept; Texas features at the city position: %s%n",
                count(kept), texasNodes.stream().map(i -> describe(graph.selected().get(i))).toList());
        assertThat(texasNodes).as("kept feature nodes at the city position whose dashboards are about Texas")
                .isNotEmpty();

        int austin = graph.logitIndex(0);
        assertThat(graph.logits().get(0).label()).contains("Austin");
        Set<Integer> upstream = upstreamOf(graph.adjacency(), pruned, austin);
        assertThat(texasNodes).as("Texas features with a kept path to the Austin logit").anyMatch(upstream::contains);
    }

    /**
     * docs/demo.md, "Attention": the Texas features at the city reach the Austin logit at the last position mostly
     * through heads L2.H3 and L3.H1, and L2.H3 attends from the last position to the city because of a feature at the
     * last position (query side) pairing with the Texas features (key side).
     */
    @Test
    void theTexasFeaturesReachAustinThroughTwoLateHeadsThatLookAtTheCity() {
        ReplacementModel replacement = demo.perLayer();
        TokenSequence tokens = replacement.tokenize(DemoCorpus.twoHopPrompt(CITY));
        int city = demo.position(tokens, CITY);
        int last = tokens.length() - 1;
        AttributionGraph graph = new ExactAttributor().attribute(new AttributionRequest(demo.model(),
                replacement.dictionary(), tokens, new AttributionTargets.TokenStrings(List.of("Austin")), 0, 256, 4),
                AttributionListener.NONE);
        PruneResult pruned = GraphPruning.prune(graph);
        int austin = graph.logitIndex(0);
        List<Integer> texas = new ArrayList<>();
        for (int i = 0; i < graph.selected().size(); i++) {
            Node.FeatureNode f = graph.selected().get(i);
            if (pruned.keepsNode(i) && f.position() == city && demo.topics().isAbout(f.layer(), f.feature(),
                    texasWords())) {
                texas.add(i);
            }
        }
        assertThat(texas).isNotEmpty();
        int[] targets = texas.stream().mapToInt(i -> austin).toArray();
        int[] sources = texas.stream().mapToInt(Integer::intValue).toArray();
        GraphHeadLoadings split = new HeadLoadingPass(demo.model(), replacement.dictionary())
                .compute(graph, targets, sources, null);
        for (int e = 0; e < sources.length; e++) {
            float edge = split.loadings().total(e);
            float lateHeads = split.loadings().loading(e, 2, 3) + split.loadings().loading(e, 3, 1);
            System.out.printf("%s -> Austin: %+.3f, of which L2.H3 %+.3f and L3.H1 %+.3f%n",
                    describe(graph.selected().get(sources[e])), edge, split.loadings().loading(e, 2, 3),
                    split.loadings().loading(e, 3, 1));
            assertThat(edge).isPositive();
            assertThat(lateHeads).as("L2.H3 + L3.H1 of the edge from %s", describe(graph.selected().get(sources[e])))
                    .isGreaterThan(0.4f * edge);
        }
        int[] kept = java.util.stream.IntStream.range(0, austin).filter(pruned::keepsNode).toArray();
        QkPass.GraphQk why = new QkPass(demo.model(), replacement.dictionary())
                .compute(graph, kept, List.of(new QkQuery(2, 3, last, city))).get(0);
        QkPass.GraphQk.Pair strongest = why.topPairs(1).get(0);
        List<Node> nodes = graph.nodes();
        System.out.printf("L2.H3, %d -> %d: score %.2f, strongest pair %s x %s %+.3f%n", last, city,
                why.split().score(), nodes.get(strongest.queryNode()), nodes.get(strongest.keyNode()),
                strongest.attribution());
        assertThat(why.split().score()).isPositive();
        assertThat(strongest.attribution()).isPositive();
        assertThat(nodes.get(strongest.queryNode())).isInstanceOfSatisfying(Node.FeatureNode.class,
                f -> assertThat(f.position()).isEqualTo(last));
        assertThat(texas).as("the key side of the strongest pair is a Texas feature at the city")
                .contains(strongest.keyNode());
    }

    @Test
    void swappingTexasForCaliforniaFeaturesAnswersSacramento() {
        ReplacementModel replacement = demo.perLayer();
        TokenSequence tokens = replacement.tokenize(DemoCorpus.twoHopPrompt(CITY));
        TokenSequence other = replacement.tokenize(DemoCorpus.twoHopPrompt(OTHER_CITY));
        int city = demo.position(tokens, CITY);
        int otherCity = demo.position(other, OTHER_CITY);
        int start = DemoFixture.STEERING_LAYERS.start();
        int end = DemoFixture.STEERING_LAYERS.end();

        List<Intervention> interventions = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager()) {
            ReplacementActivations dallas = replacement.activations(manager, tokens);
            ReplacementActivations oakland = replacement.activations(manager, other);
            for (SparseActivations layer : dallas.features()) {
                for (int i = 0; i < layer.size(); i++) {
                    if (layer.positionAt(i) == city && layer.layer() >= start && layer.layer() < end
                            && demo.topics().isAbout(layer.layer(), layer.featureAt(i), texasWords())) {
                        interventions.add(Intervention.scale(layer.layer(), Positions.at(city), layer.featureAt(i), -4));
                    }
                }
            }
            int texas = interventions.size();
            for (SparseActivations layer : oakland.features()) {
                for (int i = 0; i < layer.size(); i++) {
                    if (layer.positionAt(i) == otherCity && layer.layer() >= start && layer.layer() < end
                            && demo.topics().isAbout(layer.layer(), layer.featureAt(i), californiaWords())) {
                        interventions.add(Intervention.set(layer.layer(), Positions.at(city), layer.featureAt(i),
                                10 * layer.valueAt(i)));
                    }
                }
            }
            System.out.printf("steering: %d Texas features x -4, %d California features set to 10x, layers [%d, %d)%n",
                    texas, interventions.size() - texas, start, end);
            assertThat(texas).as("Texas features to suppress").isPositive();
            assertThat(interventions.size() - texas).as("California features to inject").isPositive();

            InterventionResult steered = Interventions.intervene(manager, replacement, tokens, interventions,
                    InterventionOptions.constrained(start, end));
            NDArray last = steered.logits().get(tokens.length() - 1);
            String top = demo.model().tokenizer().tokenText((int) last.argMax().getLong());
            System.out.println("steered top prediction: " + top);
            assertThat(top).isEqualTo("Sacramento");
        }
    }

    private static Set<String> texasWords() {
        return stateWords("Texas");
    }

    private static Set<String> californiaWords() {
        return stateWords("California");
    }

    private static Set<String> stateWords(String name) {
        World.State s = World.state(name);
        Set<String> words = new java.util.HashSet<>(s.cities());
        words.add(s.name());
        words.add(s.capital());
        return words;
    }

    /** Every node with a kept path of kept edges into {@code target}. */
    private static Set<Integer> upstreamOf(EdgeMatrix a, PruneResult pruned, int target) {
        boolean[] nodes = pruned.nodeMask();
        boolean[] edges = pruned.edgeMask(a.nonZeros());
        Set<Integer> seen = new java.util.HashSet<>();
        Deque<Integer> queue = new ArrayDeque<>(List.of(target));
        while (!queue.isEmpty()) {
            int t = queue.pop();
            for (int i = 0; i < a.rowSize(t); i++) {
                int entry = a.rowStart()[t] + i;
                int source = a.columnAt(t, i);
                if (edges[entry] && nodes[source] && a.weightAt(t, i) != 0f && seen.add(source)) {
                    queue.push(source);
                }
            }
        }
        return seen;
    }

    private static int count(boolean[] mask) {
        int n = 0;
        for (boolean b : mask) {
            n += b ? 1 : 0;
        }
        return n;
    }

    private static String describe(Node.FeatureNode f) {
        return "L" + f.layer() + "/" + f.feature() + "=" + String.format("%.2f", f.activation());
    }

    static String joined(Set<String> words) {
        return words.stream().sorted().collect(Collectors.joining(","));
    }
}
