package org.circuittracer.attribution.attention;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.circuittracer.spi.model.HeadLoadings;

/**
 * Head loadings of edges of one graph, found by (target node, source node).
 *
 * @param targets  {@code [E]} the edges' target node indices
 * @param sources  {@code [E]} their source node indices
 * @param loadings edge {@code e} of it is {@code (targets[e] ← sources[e])}
 */
public record GraphHeadLoadings(int[] targets, int[] sources, HeadLoadings loadings) {

    public GraphHeadLoadings {
        Objects.requireNonNull(loadings, "loadings");
        if (targets.length != sources.length || targets.length != loadings.edges()) {
            throw new IllegalArgumentException("edge lists of " + targets.length + " and " + sources.length
                    + " entries for " + loadings.edges() + " edges");
        }
        targets = targets.clone();
        sources = sources.clone();
    }

    /** One head's share of an edge. */
    public record HeadShare(int layer, int head, float loading) {
    }

    /** The index of edge {@code target ← source}, or −1 when absent. */
    public int indexOf(int target, int source) {
        return index().getOrDefault(((long) target << 32) | (source & 0xffffffffL), -1);
    }

    private Map<Long, Integer> index() {
        Map<Long, Integer> index = new HashMap<>(targets.length * 2);
        for (int e = 0; e < targets.length; e++) {
            index.put(((long) targets[e] << 32) | (sources[e] & 0xffffffffL), e);
        }
        return index;
    }

    /** A lookup that builds its index once: {@code (target, source) → edge}. */
    public java.util.function.BiFunction<Integer, Integer, Integer> lookup() {
        Map<Long, Integer> index = index();
        return (t, s) -> index.getOrDefault(((long) t << 32) | (s & 0xffffffffL), -1);
    }

    /** The edges among {@code (targets[i] ← sources[i])} that this holds, in that order; the others are left out. */
    public GraphHeadLoadings subset(int[] wantedTargets, int[] wantedSources) {
        var edgeOf = lookup();
        List<Integer> found = new ArrayList<>();
        for (int i = 0; i < wantedTargets.length; i++) {
            int e = edgeOf.apply(wantedTargets[i], wantedSources[i]);
            if (e >= 0) {
                found.add(e);
            }
        }
        int n = found.size();
        int layers = loadings.layers();
        int heads = loadings.heads();
        float[] all = loadings.loadings();
        float[] bypassAll = loadings.bypass();
        float[] values = new float[n * layers * heads];
        float[] bypass = new float[n * layers];
        float[] totals = new float[n];
        int[] t = new int[n];
        int[] s = new int[n];
        for (int i = 0; i < n; i++) {
            int e = found.get(i);
            t[i] = targets[e];
            s[i] = sources[e];
            totals[i] = loadings.total(e);
            System.arraycopy(all, e * layers * heads, values, i * layers * heads, layers * heads);
            System.arraycopy(bypassAll, e * layers, bypass, i * layers, layers);
        }
        return new GraphHeadLoadings(t, s, new HeadLoadings(n, layers, heads, values, bypass, totals));
    }

    /**
     * For every layer the edge passes (some head carries a non-zero part), the {@code k} heads of that layer with the
     * largest |loading|, layer by layer, largest first within a layer.
     */
    public List<HeadShare> topHeads(int edge, int k) {
        List<HeadShare> top = new ArrayList<>();
        int heads = loadings.heads();
        Integer[] order = new Integer[heads];
        for (int m = 0; m < loadings.layers(); m++) {
            final int layer = m;
            boolean passes = false;
            for (int h = 0; h < heads; h++) {
                order[h] = h;
                passes |= loadings.loading(edge, m, h) != 0;
            }
            if (!passes) {
                continue;
            }
            Arrays.sort(order, (a, b) -> Float.compare(Math.abs(loadings.loading(edge, layer, b)),
                    Math.abs(loadings.loading(edge, layer, a))));
            for (int i = 0; i < Math.min(k, heads); i++) {
                top.add(new HeadShare(m, order[i], loadings.loading(edge, m, order[i])));
            }
        }
        return top;
    }

    @Override
    public int[] targets() {
        return targets.clone();
    }

    @Override
    public int[] sources() {
        return sources.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof GraphHeadLoadings that && Arrays.equals(targets, that.targets)
                && Arrays.equals(sources, that.sources) && loadings.equals(that.loadings);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(targets) + Arrays.hashCode(sources)) + loadings.hashCode();
    }
}
