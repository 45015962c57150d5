package org.circuittracer.attribution.attention;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import org.circuittracer.attribution.replacement.ReplacementActivations;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.spi.Capability;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.QkAttribution;
import org.circuittracer.spi.model.QkQuery;
import org.circuittracer.spi.model.SourceWrites;
import org.circuittracer.spi.model.TransformerModel;

/**
 * QK attribution over an attribution graph's nodes (docs/attention.md, "QK attribution"): why a head's query at one
 * position attended to a key at another, as pairwise terms between the chosen source nodes (features, errors, tokens)
 * at the query and at the key, marginal terms of each against the other side's rest, and a constant. The prompt is
 * linearised again (one forward pass); the rest holds biases and every contribution that is not one of the chosen
 * nodes (e.g. features pruned from the graph).
 */
public final class QkPass {

    private final TransformerModel model;
    private final SparseDictionary dictionary;

    public QkPass(TransformerModel model, SparseDictionary dictionary) {
        this.model = Objects.requireNonNull(model, "model");
        this.dictionary = Objects.requireNonNull(dictionary, "dictionary");
    }

    /** One query's split, with the graph node index of each source. */
    public record GraphQk(QkAttribution split, int[] nodes) {

        public GraphQk {
            Objects.requireNonNull(split, "split");
            nodes = nodes.clone();
        }

        @Override
        public int[] nodes() {
            return nodes.clone();
        }

        /** A pairwise term: the node at the query against the node at the key. */
        public record Pair(int queryNode, int keyNode, float attribution) {
        }

        /** A marginal term: a node against the other side's rest. */
        public record Marginal(int node, float attribution) {
        }

        /** The {@code n} pairwise terms of largest magnitude, largest first. */
        public List<Pair> topPairs(int n) {
            List<Pair> all = new ArrayList<>();
            int s = split.sources();
            for (int a = 0; a < s; a++) {
                for (int b = 0; b < s; b++) {
                    float v = split.pair(a, b);
                    if (v != 0) {
                        all.add(new Pair(nodes[a], nodes[b], v));
                    }
                }
            }
            all.sort(Comparator.comparingDouble((Pair p) -> -Math.abs(p.attribution()))
                    .thenComparingInt(Pair::queryNode).thenComparingInt(Pair::keyNode));
            return List.copyOf(all.subList(0, Math.min(n, all.size())));
        }

        /** The {@code n} query-side marginals of largest magnitude. */
        public List<Marginal> topQueryMarginals(int n) {
            return top(split.queryMarginal(), n);
        }

        /** The {@code n} key-side marginals of largest magnitude. */
        public List<Marginal> topKeyMarginals(int n) {
            return top(split.keyMarginal(), n);
        }

        private List<Marginal> top(float[] values, int n) {
            List<Marginal> all = new ArrayList<>();
            for (int a = 0; a < values.length; a++) {
                if (values[a] != 0) {
                    all.add(new Marginal(nodes[a], values[a]));
                }
            }
            all.sort(Comparator.comparingDouble((Marginal m) -> -Math.abs(m.attribution()))
                    .thenComparingInt(Marginal::node));
            return List.copyOf(all.subList(0, Math.min(n, all.size())));
        }
    }

    /**
     * @param sourceNodes graph node indices of the sources to split over (features, errors, tokens), e.g. the nodes a
     *                    pruned graph keeps
     * @throws CircuitTracerException MISSING_CAPABILITY when the backend cannot split scores; INVALID_ARGUMENT for
     *                                nodes outside the graph or logit nodes, and for queries outside the model or
     *                                prompt
     */
    public List<GraphQk> compute(AttributionGraph graph, int[] sourceNodes, List<QkQuery> queries) {
        Capability.require("backend", model.backendName(), model.capabilities(), BackendCapability.QK_ATTRIBUTION,
                "QK attribution");
        List<Node> nodes = graph.nodes();
        LinkedHashMap<Integer, Integer> sourceOf = new LinkedHashMap<>();
        for (int node : sourceNodes) {
            if (node < 0 || node >= nodes.size()) {
                throw CircuitTracerException.invalidArgument("Node " + node + " is not in the graph (nodes 0 to "
                        + (nodes.size() - 1) + ").");
            }
            if (nodes.get(node) instanceof Node.LogitNode) {
                throw CircuitTracerException.invalidArgument("Node " + node + " is a logit; QK attribution splits "
                        + "scores over features, errors and tokens.");
            }
            sourceOf.putIfAbsent(node, sourceOf.size());
        }
        int[] order = sourceOf.keySet().stream().mapToInt(Integer::intValue).toArray();
        ReplacementModel replacement = ReplacementModel.of(model, dictionary);
        try (ai.djl.ndarray.NDManager manager = ai.djl.ndarray.NDManager.newBaseManager();
             LinearizedModel linear = model.linearize(manager, graph.tokens(), replacement.linearizationSpec())) {
            ReplacementActivations activations = replacement.activations(manager, graph.tokens(), linear.clean());
            SourceWrites writes = GraphSources.writes(manager, model, dictionary, nodes, sourceOf, activations,
                    replacement.linearizationSpec().writeSite());
            List<GraphQk> results = new ArrayList<>();
            for (QkAttribution split : linear.qkAttribution(manager, writes, queries)) {
                results.add(new GraphQk(split, order));
            }
            return results;
        }
    }
}
