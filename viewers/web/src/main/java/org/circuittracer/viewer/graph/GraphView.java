package org.circuittracer.viewer.graph;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalDouble;
import org.circuittracer.viewer.files.FeatureStore;

/**
 * The part of a graph the browser draws: the graph pruned on the server to the viewer's thresholds and to node and
 * link caps, so that a graph of any size arrives as a payload the page can parse and draw (the reference viewer
 * downloads the whole file). Nodes named in {@link ViewRequest#keep()}, embeddings and logits are always sent.
 */
public final class GraphView {

    private GraphView() {
    }

    /**
     * The view as graph JSON ({@code metadata}, {@code qParams}, {@code nodes}, {@code links}) plus a {@code view}
     * object saying what was left out.
     *
     * @param features feature details for the density filter, or {@code null}
     */
    public static ObjectNode compute(LoadedGraph g, ViewRequest r, FeatureStore features) {
        int n = g.nodeCount();
        boolean[] forced = new boolean[n];
        List<String> unknown = new ArrayList<>();
        for (String id : r.keep()) {
            int i = g.indexOf(id);
            if (i >= 0) {
                forced[i] = true;
            } else {
                unknown.add(id);
            }
        }
        boolean[] keep = new boolean[n];
        int densityKnown = 0;
        int hiddenByDensity = 0;
        for (int i = 0; i < n; i++) {
            NodeKind kind = g.kind(i);
            if (forced[i] || kind.alwaysShown()) {
                keep[i] = true;
                continue;
            }
            double inf = g.influence(i);
            keep[i] = Double.isNaN(inf) || r.pruningThreshold() == null || inf <= r.pruningThreshold();
            if (keep[i] && kind == NodeKind.FEATURE && features != null && r.densityThreshold() != null
                    && r.densityThreshold() < 1) {
                OptionalDouble freq = features.activationFrequency(g.node(i).path("feature").asLong(-1));
                if (freq.isPresent()) {
                    densityKnown++;
                    if (freq.getAsDouble() > r.densityThreshold()) {
                        keep[i] = false;
                        hiddenByDensity++;
                    }
                }
            }
        }
        int cappedNodes = capNodes(g, r.maxNodes(), keep, forced);

        // links between kept nodes, and each target's total absolute input over them
        double[] inputAbs = new double[n];
        List<Integer> candidates = new ArrayList<>();
        for (int l = 0; l < g.linkCount(); l++) {
            if (keep[g.source(l)] && keep[g.target(l)]) {
                candidates.add(l);
                inputAbs[g.target(l)] += Math.abs(g.weight(l));
            }
        }
        int cappedLinks = 0;
        if (candidates.size() > r.maxLinks()) {
            // links of pinned or selected nodes first, then by their share of the target's input
            candidates.sort(Comparator.<Integer>comparingInt(l -> forced[g.source(l)] || forced[g.target(l)] ? 0 : 1)
                    .thenComparingDouble(l -> -Math.abs(g.weight(l)) / Math.max(inputAbs[g.target(l)], 1e-30)));
            cappedLinks = candidates.size() - r.maxLinks();
            candidates = new ArrayList<>(candidates.subList(0, r.maxLinks()));
            candidates.sort(null);
        }
        boolean[] linked = new boolean[n];
        for (int l : candidates) {
            linked[g.source(l)] = true;
            linked[g.target(l)] = true;
        }

        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        root.set("metadata", g.metadata());
        root.set("qParams", g.qParams());
        ArrayNode nodes = root.putArray("nodes");
        int orphans = 0;
        for (int i = 0; i < n; i++) {
            if (!keep[i]) {
                continue;
            }
            if (!linked[i] && !forced[i] && !g.kind(i).alwaysShown()) {
                orphans++; // a feature whose links were all pruned says nothing in the drawing
                continue;
            }
            nodes.add(g.node(i));
        }
        ArrayNode links = root.putArray("links");
        for (int l : candidates) {
            ObjectNode link = links.addObject();
            link.put("source", g.node(g.source(l)).get("node_id").asText());
            link.put("target", g.node(g.target(l)).get("node_id").asText());
            link.put("weight", g.weight(l));
        }
        ObjectNode view = root.putObject("view");
        view.put("totalNodes", n);
        view.put("totalLinks", g.linkCount());
        view.put("nodes", nodes.size());
        view.put("links", links.size());
        if (r.pruningThreshold() != null) {
            view.put("pruningThreshold", r.pruningThreshold());
        } else {
            view.putNull("pruningThreshold");
        }
        if (r.densityThreshold() != null) {
            view.put("densityThreshold", r.densityThreshold());
        } else {
            view.putNull("densityThreshold");
        }
        view.put("maxNodes", r.maxNodes());
        view.put("maxLinks", r.maxLinks());
        view.put("nodesCapped", cappedNodes);
        view.put("linksCapped", cappedLinks);
        view.put("unlinkedHidden", orphans);
        view.put("hiddenByDensity", hiddenByDensity);
        view.put("densityKnown", densityKnown);
        // ids the page asked to keep that the graph does not have (stale or mistyped URL state): the page drops them
        ArrayNode unknownKeep = view.putArray("unknownKeep");
        unknown.stream().sorted().forEach(unknownKeep::add);
        // each logit node's summed direct input over all of the file's links (for a logit difference, its value as far
        // as the file's links give it), not just the links this view sends
        ObjectNode logitInputs = view.putObject("logitInputSums");
        double[] sums = new double[n];
        for (int l = 0; l < g.linkCount(); l++) {
            if (g.kind(g.target(l)) == NodeKind.LOGIT) {
                sums[g.target(l)] += g.weight(l);
            }
        }
        for (int i = 0; i < n; i++) {
            if (g.kind(i) == NodeKind.LOGIT && keep[i]) {
                logitInputs.put(g.node(i).get("node_id").asText(), sums[i]);
            }
        }
        return root;
    }

    /** Leaves out the least influential unforced features and errors beyond the cap; returns how many. */
    private static int capNodes(LoadedGraph g, int maxNodes, boolean[] keep, boolean[] forced) {
        int kept = 0;
        List<Integer> optional = new ArrayList<>();
        for (int i = 0; i < keep.length; i++) {
            if (keep[i]) {
                kept++;
                if (!forced[i] && !g.kind(i).alwaysShown()) {
                    optional.add(i);
                }
            }
        }
        int excess = kept - maxNodes;
        if (excess <= 0) {
            return 0;
        }
        Integer[] order = optional.toArray(Integer[]::new);
        // most influential = smallest cumulative influence; unknown influence last
        Arrays.sort(order, Comparator.comparingDouble(i -> Double.isNaN(g.influence(i)) ? 2 : g.influence(i)));
        int drop = Math.min(excess, order.length);
        for (int k = order.length - drop; k < order.length; k++) {
            keep[order[k]] = false;
        }
        return drop;
    }
}
