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
        List<String> unknown = new ArrayList<>();
        boolean[] forced = forced(g, r, unknown);
        Kept kept = keptNodes(g, r, features, forced);
        int cappedNodes = capNodes(g, r.maxNodes(), kept.keep(), forced);
        Links links = links(g, r.maxLinks(), kept.keep(), forced);

        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.set("metadata", g.metadata());
        root.set("qParams", g.qParams());
        ArrayNode nodeArray = root.putArray("nodes");
        int orphans = addNodes(g, kept.keep(), forced, links.linked(), nodeArray);
        ArrayNode linkArray = root.putArray("links");
        for (int l : links.sent()) {
            ObjectNode link = linkArray.addObject();
            link.put("source", g.node(g.source(l)).get("node_id").asText());
            link.put("target", g.node(g.target(l)).get("node_id").asText());
            link.put("weight", g.weight(l));
            g.putHeadLoadings(l, link);
        }
        ObjectNode view = root.putObject("view");
        view.put("totalNodes", g.nodeCount());
        view.put("totalLinks", g.linkCount());
        view.put("nodes", nodeArray.size());
        view.put("links", linkArray.size());
        putOrNull(view, "pruningThreshold", r.pruningThreshold());
        putOrNull(view, "densityThreshold", r.densityThreshold());
        view.put("maxNodes", r.maxNodes());
        view.put("maxLinks", r.maxLinks());
        view.put("nodesCapped", cappedNodes);
        view.put("linksCapped", links.capped());
        view.put("unlinkedHidden", orphans);
        view.put("hiddenByDensity", kept.hiddenByDensity());
        view.put("densityKnown", kept.densityKnown());
        // ids the page asked to keep that the graph does not have (stale or mistyped URL state): the page drops them
        ArrayNode unknownKeep = view.putArray("unknownKeep");
        unknown.stream().sorted().forEach(unknownKeep::add);
        view.set("logitInputSums", logitInputSums(g, kept.keep()));
        return root;
    }

    /** The nodes the request names to keep; ids the graph does not have go to {@code unknown}. */
    private static boolean[] forced(LoadedGraph g, ViewRequest r, List<String> unknown) {
        boolean[] forced = new boolean[g.nodeCount()];
        for (String id : r.keep()) {
            int i = g.indexOf(id);
            if (i >= 0) {
                forced[i] = true;
            } else {
                unknown.add(id);
            }
        }
        return forced;
    }

    /** The nodes within the thresholds, and what the density filter knew and hid. */
    private record Kept(boolean[] keep, int densityKnown, int hiddenByDensity) {
    }

    private static Kept keptNodes(LoadedGraph g, ViewRequest r, FeatureStore features, boolean[] forced) {
        boolean[] keep = new boolean[g.nodeCount()];
        int densityKnown = 0;
        int hiddenByDensity = 0;
        boolean density = features != null && r.densityThreshold() != null && r.densityThreshold() < 1;
        for (int i = 0; i < keep.length; i++) {
            NodeKind kind = g.kind(i);
            if (forced[i] || kind.alwaysShown()) {
                keep[i] = true;
                continue;
            }
            double inf = g.influence(i);
            keep[i] = Double.isNaN(inf) || r.pruningThreshold() == null || inf <= r.pruningThreshold();
            if (keep[i] && kind == NodeKind.FEATURE && density) {
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
        return new Kept(keep, densityKnown, hiddenByDensity);
    }

    /** The links sent (indices, ascending), how many the cap left out, and which nodes they touch. */
    private record Links(List<Integer> sent, int capped, boolean[] linked) {
    }

    /** Links between kept nodes, at most {@code maxLinks}: those of forced nodes first, then by share of input. */
    private static Links links(LoadedGraph g, int maxLinks, boolean[] keep, boolean[] forced) {
        // each target's total absolute input over the links between kept nodes
        double[] inputAbs = new double[g.nodeCount()];
        List<Integer> candidates = new ArrayList<>();
        for (int l = 0; l < g.linkCount(); l++) {
            if (keep[g.source(l)] && keep[g.target(l)]) {
                candidates.add(l);
                inputAbs[g.target(l)] += Math.abs(g.weight(l));
            }
        }
        int capped = 0;
        if (candidates.size() > maxLinks) {
            candidates.sort(Comparator.<Integer>comparingInt(l -> forced[g.source(l)] || forced[g.target(l)] ? 0 : 1)
                    .thenComparingDouble(l -> -Math.abs(g.weight(l)) / Math.max(inputAbs[g.target(l)], 1e-30)));
            capped = candidates.size() - maxLinks;
            candidates = new ArrayList<>(candidates.subList(0, maxLinks));
            candidates.sort(null);
        }
        boolean[] linked = new boolean[g.nodeCount()];
        for (int l : candidates) {
            linked[g.source(l)] = true;
            linked[g.target(l)] = true;
        }
        return new Links(candidates, capped, linked);
    }

    /** Adds the kept nodes to {@code out}, except unforced features and errors left without links; returns those. */
    private static int addNodes(LoadedGraph g, boolean[] keep, boolean[] forced, boolean[] linked, ArrayNode out) {
        int orphans = 0;
        for (int i = 0; i < keep.length; i++) {
            if (!keep[i]) {
                continue;
            }
            if (!linked[i] && !forced[i] && !g.kind(i).alwaysShown()) {
                orphans++; // a feature whose links were all pruned says nothing in the drawing
                continue;
            }
            out.add(g.node(i));
        }
        return orphans;
    }

    /**
     * Each kept logit node's summed direct input over all of the file's links (for a logit difference, its value as far
     * as the file's links give it), not just the links this view sends.
     */
    private static ObjectNode logitInputSums(LoadedGraph g, boolean[] keep) {
        double[] sums = new double[g.nodeCount()];
        for (int l = 0; l < g.linkCount(); l++) {
            if (g.kind(g.target(l)) == NodeKind.LOGIT) {
                sums[g.target(l)] += g.weight(l);
            }
        }
        ObjectNode logitInputs = JsonNodeFactory.instance.objectNode();
        for (int i = 0; i < sums.length; i++) {
            if (g.kind(i) == NodeKind.LOGIT && keep[i]) {
                logitInputs.put(g.node(i).get("node_id").asText(), sums[i]);
            }
        }
        return logitInputs;
    }

    private static void putOrNull(ObjectNode o, String field, Double value) {
        if (value != null) {
            o.put(field, value);
        } else {
            o.putNull(field);
        }
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
