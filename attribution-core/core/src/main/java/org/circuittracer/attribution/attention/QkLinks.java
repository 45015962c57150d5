package org.circuittracer.attribution.attention;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.HeadLoadings;
import org.circuittracer.spi.model.QkQuery;

/**
 * Which attention scores to explain for a graph: its strongest links that cross positions (source before target),
 * each through the head that carries the largest part of it; the score is the target's position (query) attending to
 * the source's (key).
 */
public final class QkLinks {

    private QkLinks() {
    }

    /** A link, as graph node indices, and the score to explain for it. */
    public record Choice(int target, int source, QkQuery query) {
    }

    /** Up to {@code count} choices, strongest link first. */
    public static List<Choice> choose(AttributionGraph graph, GraphHeadLoadings heads, int count) {
        List<Node> nodes = graph.nodes();
        HeadLoadings loadings = heads.loadings();
        int[] targets = heads.targets();
        int[] sources = heads.sources();
        List<Integer> crossing = new ArrayList<>();
        for (int e = 0; e < targets.length; e++) {
            if (position(nodes.get(sources[e])) < position(nodes.get(targets[e])) && loadings.total(e) != 0) {
                crossing.add(e);
            }
        }
        crossing.sort(Comparator.comparingDouble((Integer e) -> -Math.abs(loadings.total(e))).thenComparingInt(e -> e));
        List<Choice> chosen = new ArrayList<>();
        for (int e : crossing) {
            if (chosen.size() == count) {
                break;
            }
            int bestLayer = -1;
            int bestHead = -1;
            float best = 0;
            for (int m = 0; m < loadings.layers(); m++) {
                for (int h = 0; h < loadings.heads(); h++) {
                    float v = Math.abs(loadings.loading(e, m, h));
                    if (v > best) {
                        best = v;
                        bestLayer = m;
                        bestHead = h;
                    }
                }
            }
            if (bestLayer >= 0) {
                chosen.add(new Choice(targets[e], sources[e], new QkQuery(bestLayer, bestHead,
                        position(nodes.get(targets[e])), position(nodes.get(sources[e])))));
            }
        }
        return chosen;
    }

    private static int position(Node node) {
        if (node instanceof Node.FeatureNode f) {
            return f.position();
        }
        if (node instanceof Node.ErrorNode e) {
            return e.position();
        }
        if (node instanceof Node.TokenNode t) {
            return t.position();
        }
        return ((Node.LogitNode) node).position();
    }
}
