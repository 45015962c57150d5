package org.circuittracer.attribution.prune;

import java.util.Arrays;
import org.circuittracer.spi.graph.EdgeMatrix;

/**
 * The scores of {@link GraphScores} for a graph given as a node list and a link list, e.g. a graph JSON file
 * (docs/reference/graph-format.md §2), as Neuronpedia recomputes them from a (pruned) file: the adjacency is rebuilt from
 * the links ({@code A[target, source] = weight}), the logit weights are the logits' {@code token_prob}, and
 *
 * <ul>
 *   <li>replacement = {@code Σ_tokens I / (Σ_tokens I + Σ_errors I)},</li>
 *   <li>completeness = {@code Σ_t (1 − Σ_{s ∈ errors} Â[t, s])·(I[t] + w[t]) / Σ_t (I[t] + w[t])},</li>
 * </ul>
 *
 * <p>with {@code Â} the row-normalised {@code |A|} and {@code I} the influence of {@link Influence#influence}. On the
 * unpruned adjacency of an {@code AttributionGraph} this is exactly {@link GraphScores}. A score whose denominator is
 * zero (no influence reaches tokens or errors; no logit weight) is 0, as in Neuronpedia.
 *
 * <p>{@link #subgraph} restricts a file to a pinned subgraph the way Neuronpedia's subgraph scores do.
 */
public final class GraphFileScores {

    /** What a node is for the scores. */
    public enum Kind { FEATURE, ERROR, TOKEN, LOGIT }

    /** Both scores. */
    public record Scores(double replacement, double completeness) {
    }

    private GraphFileScores() {
    }

    /**
     * @param kinds       each node's kind
     * @param logitWeight each node's weight {@code w} (the logits' {@code token_prob}; ignored for other kinds)
     * @param sources     each link's source node index
     * @param targets     each link's target node index
     * @param weights     each link's weight; a repeated (target, source) pair keeps the last weight
     */
    public static Scores compute(Kind[] kinds, double[] logitWeight, int[] sources, int[] targets, float[] weights) {
        int n = kinds.length;
        double[] w = new double[n];
        for (int i = 0; i < n; i++) {
            w[i] = kinds[i] == Kind.LOGIT ? logitWeight[i] : 0;
        }
        EdgeMatrix a = matrix(n, sources, targets, weights);
        double[] influence = Influence.influence(a, w);
        double[] scales = Influence.rowScales(a);
        double tokens = 0;
        double errors = 0;
        for (int i = 0; i < n; i++) {
            if (kinds[i] == Kind.TOKEN) {
                tokens += influence[i];
            } else if (kinds[i] == Kind.ERROR) {
                errors += influence[i];
            }
        }
        int[] rowStart = a.rowStart();
        int[] columns = a.columns();
        float[] aw = a.weights();
        double numerator = 0;
        double denominator = 0;
        for (int t = 0; t < n; t++) {
            double fromErrors = 0;
            for (int i = rowStart[t]; i < rowStart[t + 1]; i++) {
                if (kinds[columns[i]] == Kind.ERROR) {
                    fromErrors += Math.abs(aw[i]);
                }
            }
            double mass = influence[t] + w[t];
            numerator += (1 - fromErrors * scales[t]) * mass;
            denominator += mass;
        }
        return new Scores(ratio(tokens, tokens + errors), ratio(numerator, denominator));
    }

    /**
     * Which nodes a pinned subgraph keeps, as Neuronpedia defines its subgraph scores: every token (embedding) and
     * logit node, the pinned feature nodes, and the error nodes that share a link with a pinned node; unpinned
     * features are left out (with their links). Score the kept nodes and the links between them with {@link #compute}.
     *
     * @return the kept node mask, or null when no pinned node is a feature (Neuronpedia's scores are then 0)
     */
    public static boolean[] subgraph(Kind[] kinds, boolean[] pinned, int[] sources, int[] targets) {
        int n = kinds.length;
        boolean[] keep = new boolean[n];
        boolean anyFeature = false;
        for (int i = 0; i < n; i++) {
            keep[i] = kinds[i] == Kind.TOKEN || kinds[i] == Kind.LOGIT || kinds[i] == Kind.FEATURE && pinned[i];
            anyFeature |= kinds[i] == Kind.FEATURE && pinned[i];
        }
        if (!anyFeature) {
            return null;
        }
        for (int l = 0; l < sources.length; l++) {
            int s = sources[l];
            int t = targets[l];
            if (kinds[s] == Kind.ERROR && pinned[t]) {
                keep[s] = true;
            }
            if (kinds[t] == Kind.ERROR && pinned[s]) {
                keep[t] = true;
            }
        }
        return keep;
    }

    /** {@link #compute} on the kept nodes only (links with both ends kept); zero scores for a null mask. */
    public static Scores compute(Kind[] kinds, double[] logitWeight, int[] sources, int[] targets, float[] weights,
                                 boolean[] keep) {
        if (keep == null) {
            return new Scores(0, 0);
        }
        int[] index = new int[kinds.length];
        int n = 0;
        for (int i = 0; i < kinds.length; i++) {
            index[i] = keep[i] ? n++ : -1;
        }
        Kind[] k = new Kind[n];
        double[] lw = new double[n];
        for (int i = 0; i < kinds.length; i++) {
            if (keep[i]) {
                k[index[i]] = kinds[i];
                lw[index[i]] = logitWeight[i];
            }
        }
        int m = 0;
        int[] s = new int[sources.length];
        int[] t = new int[sources.length];
        float[] w = new float[sources.length];
        for (int l = 0; l < sources.length; l++) {
            if (keep[sources[l]] && keep[targets[l]]) {
                s[m] = index[sources[l]];
                t[m] = index[targets[l]];
                w[m] = weights[l];
                m++;
            }
        }
        return compute(k, lw, Arrays.copyOf(s, m), Arrays.copyOf(t, m), Arrays.copyOf(w, m));
    }

    private static double ratio(double numerator, double denominator) {
        double r = numerator / denominator;
        return Double.isFinite(r) ? r : 0;
    }

    /** Compressed rows, columns ascending, zero weights dropped, the last of repeated pairs kept. */
    static EdgeMatrix matrix(int n, int[] sources, int[] targets, float[] weights) {
        Integer[] order = new Integer[sources.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        // stable: among equal (target, source) pairs the later link comes last and wins below
        Arrays.sort(order, (x, y) -> targets[x] != targets[y] ? Integer.compare(targets[x], targets[y])
                : Integer.compare(sources[x], sources[y]));
        int[] rowStart = new int[n + 1];
        int[] columns = new int[order.length];
        float[] values = new float[order.length];
        int k = 0;
        for (int j = 0; j < order.length; j++) {
            int l = order[j];
            boolean repeatNext = j + 1 < order.length && targets[order[j + 1]] == targets[l]
                    && sources[order[j + 1]] == sources[l];
            if (repeatNext || weights[l] == 0) {
                continue;
            }
            columns[k] = sources[l];
            values[k] = weights[l];
            rowStart[targets[l] + 1]++;
            k++;
        }
        for (int r = 0; r < n; r++) {
            rowStart[r + 1] += rowStart[r];
        }
        return new EdgeMatrix(n, rowStart, Arrays.copyOf(columns, k), Arrays.copyOf(values, k));
    }
}
