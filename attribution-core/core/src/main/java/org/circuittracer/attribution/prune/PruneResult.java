package org.circuittracer.attribution.prune;

import java.util.BitSet;

/**
 * What {@link GraphPruning} keeps.
 *
 * @param nodeMask          per node (graph order): kept
 * @param edgeBits          per <em>stored</em> entry of the adjacency (CSR storage order, i.e. entry
 *                          {@code rowOffset(t) + i}): set when kept. A bit set rather than a {@code boolean[]}: a graph
 *                          with every feature of a long prompt has hundreds of millions of entries
 * @param cumulativeScores  per node: the fraction of total influence held by nodes at least as influential
 *                          (smaller = more important; logit nodes, with no influence, come last)
 * @param unstoredEdgesKept true only in the degenerate case where the edge threshold came out as 0: the reference then
 *                          also marks every zero entry of the matrix as kept, which a sparse mask cannot list
 * @param influence         per node: its influence on the weighted logits in the whole (unpruned) graph, from which
 *                          the node mask was cut (the graph's scores reuse it instead of computing it again)
 */
public record PruneResult(boolean[] nodeMask, BitSet edgeBits, double[] cumulativeScores, boolean unstoredEdgesKept,
                          double[] influence) {

    public PruneResult {
        nodeMask = nodeMask.clone();
        edgeBits = (BitSet) edgeBits.clone();
        cumulativeScores = cumulativeScores.clone();
        influence = influence.clone();
    }

    @Override
    public double[] influence() {
        return influence.clone();
    }

    @Override
    public boolean[] nodeMask() {
        return nodeMask.clone();
    }

    @Override
    public BitSet edgeBits() {
        return (BitSet) edgeBits.clone();
    }

    /**
     * Per stored entry: kept, as an array of {@code entries} booleans.
     *
     * @param entries the adjacency's number of stored entries
     */
    public boolean[] edgeMask(int entries) {
        boolean[] mask = new boolean[entries];
        edgeBits.stream().forEach(i -> mask[i] = true);
        return mask;
    }

    /** Whether stored entry {@code entry} is kept. */
    public boolean keepsEdge(int entry) {
        return edgeBits.get(entry);
    }

    @Override
    public double[] cumulativeScores() {
        return cumulativeScores.clone();
    }

    public boolean keepsNode(int node) {
        return nodeMask[node];
    }

    public int keptNodes() {
        int n = 0;
        for (boolean b : nodeMask) {
            n += b ? 1 : 0;
        }
        return n;
    }

    public int keptEdges() {
        return edgeBits.cardinality();
    }
}
