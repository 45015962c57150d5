package org.circuittracer.viewer.graph;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.WeakHashMap;
import org.circuittracer.attribution.prune.GraphFileScores;
import org.circuittracer.attribution.prune.GraphFileScores.Kind;
import org.circuittracer.attribution.prune.GraphFileScores.Scores;

/**
 * The replacement and completeness scores a graph page shows (docs/viewer.md, "Scores"):
 *
 * <ul>
 *   <li>{@code graph}: the unpruned graph's, which the exporter stores in {@code metadata.graph_scores} (null for files
 *       without them, e.g. the Python reference's);</li>
 *   <li>{@code file}: recomputed from the graph file's nodes and links, as Neuronpedia shows them;</li>
 *   <li>{@code subgraph}: of the pinned subgraph, as Neuronpedia defines it ({@link GraphFileScores#subgraph}): the
 *       pinned features, every embedding and logit, and the error nodes linked to a pinned node; null without pins.</li>
 * </ul>
 */
public final class SubgraphScores {

    private static final Map<LoadedGraph, Map<String, Object>> FILE_SCORES = new WeakHashMap<>();

    private SubgraphScores() {
    }

    public static Map<String, Object> compute(LoadedGraph g, Collection<String> pinnedIds) {
        Kind[] kinds = kinds(g);
        double[] w = logitWeights(g);
        int[] s = new int[g.linkCount()];
        int[] t = new int[g.linkCount()];
        float[] v = new float[g.linkCount()];
        for (int l = 0; l < s.length; l++) {
            s[l] = g.source(l);
            t[l] = g.target(l);
            v[l] = g.weight(l);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        JsonNode stored = g.metadata().get("graph_scores");
        out.put("graph", stored != null && stored.isObject() ? stored : null);
        Map<String, Object> file;
        synchronized (FILE_SCORES) {
            file = FILE_SCORES.get(g);
        }
        if (file == null) {
            file = scores(() -> GraphFileScores.compute(kinds, w, s, t, v));
            synchronized (FILE_SCORES) {
                FILE_SCORES.put(g, file);
            }
        }
        out.put("file", file);
        if (pinnedIds == null || pinnedIds.isEmpty()) {
            out.put("subgraph", null);
            return out;
        }
        boolean[] pinned = new boolean[kinds.length];
        int found = 0;
        int features = 0;
        for (String id : pinnedIds) {
            int i = g.indexOf(id);
            if (i >= 0 && !pinned[i]) {
                pinned[i] = true;
                found++;
                features += kinds[i] == Kind.FEATURE ? 1 : 0;
            }
        }
        boolean[] keep = GraphFileScores.subgraph(kinds, pinned, s, t);
        Map<String, Object> sub = scores(() -> GraphFileScores.compute(kinds, w, s, t, v, keep));
        sub.put("pinned", found);
        sub.put("features", features);
        int errors = 0;
        if (keep != null) {
            for (int i = 0; i < keep.length; i++) {
                errors += keep[i] && kinds[i] == Kind.ERROR ? 1 : 0;
            }
        }
        sub.put("errors", errors);
        out.put("subgraph", sub);
        return out;
    }

    /** The scores, or null scores with the reason when the links form a cycle (not a graph file's links). */
    private static Map<String, Object> scores(java.util.function.Supplier<Scores> compute) {
        try {
            return describe(compute.get());
        } catch (org.circuittracer.spi.CircuitTracerException e) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("replacement", null);
            m.put("completeness", null);
            m.put("error", "No scores: the graph's links form a cycle, which an attribution graph cannot ("
                    + e.getMessage() + ").");
            return m;
        }
    }

    private static Map<String, Object> describe(Scores s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("replacement", s.replacement());
        m.put("completeness", s.completeness());
        return m;
    }

    static Kind[] kinds(LoadedGraph g) {
        Kind[] kinds = new Kind[g.nodeCount()];
        for (int i = 0; i < kinds.length; i++) {
            kinds[i] = switch (g.kind(i)) {
                case FEATURE -> Kind.FEATURE;
                case ERROR -> Kind.ERROR;
                case EMBEDDING -> Kind.TOKEN;
                case LOGIT -> Kind.LOGIT;
            };
        }
        return kinds;
    }

    static double[] logitWeights(LoadedGraph g) {
        double[] w = new double[g.nodeCount()];
        for (int i = 0; i < w.length; i++) {
            if (g.kind(i) == NodeKind.LOGIT) {
                double p = g.node(i).path("token_prob").asDouble(0);
                w[i] = Double.isFinite(p) ? p : 0;
            }
        }
        return w;
    }
}
