package org.circuittracer.attribution.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.circuittracer.attribution.replacement.ReplacementActivations;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.attribution.targets.LogitTarget;
import org.circuittracer.attribution.targets.LogitTargets;
import org.circuittracer.spi.Capability;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.HeadLoadings;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.SeedSite;
import org.circuittracer.spi.model.SourceWrites;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.model.VjpSeeds;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;

/**
 * Head loadings of chosen edges of an attribution graph (docs/attention.md): the prompt is linearised again
 * (one forward pass), every target node becomes a lane seeded as attribution seeds it (a feature's encoder row at its
 * read site, a logit's direction at {@code unembed.hook_in}) and every source node the vectors it writes (a feature's
 * {@code a · decoder row} at each output layer, an error vector, a token embedding); the backend then splits every
 * edge over the heads of every layer in batches of targets.
 */
public final class HeadLoadingPass {

    /** Target lanes per call of the backend: its gradients hold {@code lanes × T × d} floats per layer. */
    static final long LANE_BUDGET = 1L << 24;

    private final TransformerModel model;
    private final SparseDictionary dictionary;

    public HeadLoadingPass(TransformerModel model, SparseDictionary dictionary) {
        this.model = Objects.requireNonNull(model, "model");
        this.dictionary = Objects.requireNonNull(dictionary, "dictionary");
    }

    /**
     * Loadings of the edges {@code (edgeTargets[e] ← edgeSources[e])}, node indices of {@code graph}.
     *
     * @param targets the targets the graph was attributed with, needed only when it has custom logit targets (their
     *                directions are not in the graph); null otherwise
     * @throws CircuitTracerException MISSING_CAPABILITY when the backend cannot split edges; INVALID_ARGUMENT for
     *                                node indices outside the graph, edges into a token or error node, or custom
     *                                targets without their directions; INCOMPATIBLE_INPUTS when the graph was made
     *                                with another model or dictionary
     */
    public GraphHeadLoadings compute(AttributionGraph graph, int[] edgeTargets, int[] edgeSources,
                                     AttributionTargets targets) {
        Capability.require("backend", model.backendName(), model.capabilities(), BackendCapability.HEAD_LOADINGS,
                "head loadings");
        if (edgeTargets.length != edgeSources.length) {
            throw CircuitTracerException.invalidArgument("Edges need as many targets as sources; got "
                    + edgeTargets.length + " and " + edgeSources.length + ".");
        }
        checkGraph(graph);
        List<Node> nodes = graph.nodes();
        for (int e = 0; e < edgeTargets.length; e++) {
            for (int index : new int[] {edgeTargets[e], edgeSources[e]}) {
                if (index < 0 || index >= nodes.size()) {
                    throw CircuitTracerException.invalidArgument("Edge " + e + " names node " + index + ", but the "
                            + "graph has nodes 0 to " + (nodes.size() - 1) + ".");
                }
            }
            Node target = nodes.get(edgeTargets[e]);
            if (!(target instanceof Node.FeatureNode) && !(target instanceof Node.LogitNode)) {
                throw CircuitTracerException.invalidArgument("Edge " + e + " ends at " + target + "; only feature and "
                        + "logit nodes receive edges.");
            }
        }
        int layers = model.config().layers();
        int edges = edgeTargets.length;
        ReplacementModel replacement = ReplacementModel.of(model, dictionary);
        try (NDManager manager = NDManager.newBaseManager();
             LinearizedModel linear = model.linearize(manager, graph.tokens(), replacement.linearizationSpec())) {
            ReplacementActivations activations = replacement.activations(manager, graph.tokens(), linear.clean());
            Map<Integer, float[]> logitDirections = logitDirections(manager, graph, activations, targets);
            // sources: every distinct source node, in first-seen order
            LinkedHashMap<Integer, Integer> sourceOf = new LinkedHashMap<>();
            for (int s : edgeSources) {
                sourceOf.putIfAbsent(s, sourceOf.size());
            }
            SourceWrites writes = GraphSources.writes(manager, model, dictionary, nodes, sourceOf, activations,
                    replacement.linearizationSpec().writeSite());
            // targets in batches of lanes
            LinkedHashMap<Integer, List<Integer>> edgesByTarget = new LinkedHashMap<>();
            for (int e = 0; e < edges; e++) {
                edgesByTarget.computeIfAbsent(edgeTargets[e], t -> new ArrayList<>()).add(e);
            }
            List<Integer> targetNodes = new ArrayList<>(edgesByTarget.keySet());
            int width = model.config().modelWidth();
            int lanes = (int) Math.max(1, Math.min(256, LANE_BUDGET / ((long) graph.tokens().length() * width
                    * (layers + 1))));
            float[] loadings = null;
            float[] bypass = new float[edges * layers];
            float[] totals = new float[edges];
            int heads = 0;
            for (int from = 0; from < targetNodes.size(); from += lanes) {
                List<Integer> batch = targetNodes.subList(from, Math.min(targetNodes.size(), from + lanes));
                try (NDManager scope = manager.newSubManager()) {
                    VjpSeeds seeds = seeds(scope, nodes, batch, logitDirections, graph.tokens().length());
                    List<Integer> chosen = new ArrayList<>();
                    for (int lane = 0; lane < batch.size(); lane++) {
                        chosen.addAll(edgesByTarget.get(batch.get(lane)));
                    }
                    int[] laneOf = new int[chosen.size()];
                    int[] sourceIndex = new int[chosen.size()];
                    for (int i = 0; i < chosen.size(); i++) {
                        int e = chosen.get(i);
                        laneOf[i] = batch.indexOf(edgeTargets[e]);
                        sourceIndex[i] = sourceOf.get(edgeSources[e]);
                    }
                    HeadLoadings part = linear.headLoadings(scope, seeds, writes, laneOf, sourceIndex);
                    if (loadings == null) {
                        heads = part.heads();
                        loadings = new float[edges * layers * heads];
                    }
                    for (int i = 0; i < chosen.size(); i++) {
                        int e = chosen.get(i);
                        totals[e] = part.total(i);
                        for (int m = 0; m < layers; m++) {
                            bypass[e * layers + m] = part.bypass(i, m);
                            for (int h = 0; h < heads; h++) {
                                loadings[(e * layers + m) * heads + h] = part.loading(i, m, h);
                            }
                        }
                    }
                }
            }
            if (loadings == null) {
                heads = model.config().heads();
                loadings = new float[0];
            }
            return new GraphHeadLoadings(edgeTargets, edgeSources,
                    new HeadLoadings(edges, layers, heads, loadings, bypass, totals));
        }
    }

    private void checkGraph(AttributionGraph graph) {
        if (graph.model().layers() != model.config().layers() || graph.model().modelWidth() != model.config().modelWidth()
                || graph.adjacency().size() != graph.size()) {
            throw new CircuitTracerException(StandardErrorCode.INCOMPATIBLE_INPUTS, "The graph was made with a model of "
                    + graph.model().layers() + " layers and width " + graph.model().modelWidth() + ", but model '"
                    + model.config().modelName() + "' has " + model.config().layers() + " layers and width "
                    + model.config().modelWidth() + "; open the model and dictionary the graph was made with.");
        }
    }

    /** Logit nodes by vocabulary index → their direction, as attribution built them. */
    private Map<Integer, float[]> logitDirections(NDManager manager, AttributionGraph graph,
                                                  ReplacementActivations activations, AttributionTargets targets) {
        int vocabulary = model.config().vocabularySize();
        List<Integer> ids = new ArrayList<>();
        boolean custom = false;
        for (Node.LogitNode logit : graph.logits()) {
            if (logit.vocabIndex() < vocabulary) {
                ids.add(logit.vocabIndex());
            } else {
                custom = true;
            }
        }
        Map<Integer, float[]> directions = new HashMap<>();
        if (!ids.isEmpty()) {
            for (LogitTarget target : LogitTargets.build(new AttributionTargets.TokenIds(ids),
                    activations.lastLogits(), model, manager)) {
                directions.put(target.vocabIndex(), target.direction());
            }
        }
        if (custom) {
            if (!(targets instanceof AttributionTargets.Custom)) {
                throw CircuitTracerException.invalidArgument("The graph has custom attribution targets, whose "
                        + "directions it does not store; give the same custom targets it was attributed with.");
            }
            for (LogitTarget target : LogitTargets.build(targets, activations.lastLogits(), model, manager)) {
                directions.put(target.vocabIndex(), target.direction());
            }
        }
        return directions;
    }

    private VjpSeeds seeds(NDManager scope, List<Node> nodes, List<Integer> batch, Map<Integer, float[]> directions,
                           int length) {
        int width = model.config().modelWidth();
        List<SeedSite> sites = new ArrayList<>(batch.size());
        float[] vectors = new float[batch.size() * width];
        for (int lane = 0; lane < batch.size(); lane++) {
            Node node = nodes.get(batch.get(lane));
            float[] vector;
            if (node instanceof Node.FeatureNode f) {
                sites.add(new SeedSite.ReadSite(f.layer(), f.position()));
                vector = dictionary.encoderRows(scope, f.layer(), new int[] {f.feature()})
                        .toType(DataType.FLOAT32, false).toFloatArray();
            } else {
                Node.LogitNode logit = (Node.LogitNode) node;
                sites.add(new SeedSite.Unembedding(length - 1));
                vector = directions.get(logit.vocabIndex());
                if (vector == null) {
                    throw CircuitTracerException.invalidArgument("No direction for logit target " + logit.label()
                            + " (index " + logit.vocabIndex() + ").");
                }
            }
            System.arraycopy(vector, 0, vectors, lane * width, width);
        }
        return new VjpSeeds(sites, scope.create(vectors, new Shape(batch.size(), width)));
    }
}
