package org.circuittracer.spi.graph;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;

/**
 * An attribution graph (docs/reference/algorithm.md §4). Nodes are ordered features (the selected ones, ascending active index),
 * errors (layer-major), tokens, logits; {@link #adjacency()} is indexed in that order as {@code A[target, source]}.
 *
 * @param model          the model's dimensions
 * @param tokens         the prompt, including any prepended special token
 * @param inputString    the decoded prompt
 * @param activeFeatures every active feature of the prompt, sorted by (layer, position, feature); their
 *                       {@code activeIndex} is their index here
 * @param selected       the feature nodes of the graph, a subset of {@code activeFeatures} in ascending active index
 * @param logits         the attribution targets, in target order
 * @param adjacency      the direct effects, {@code N × N} with {@code N = selected + L·T + T + logits}
 * @param vocabularySize the tokenizer's vocabulary size
 * @param scan           the dictionary's identifier for feature visualisations
 */
public record AttributionGraph(ModelConfig model, TokenSequence tokens, String inputString,
                               List<Node.FeatureNode> activeFeatures, List<Node.FeatureNode> selected,
                               List<Node.LogitNode> logits, EdgeMatrix adjacency, int vocabularySize, String scan) {

    public AttributionGraph {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(inputString, "inputString");
        Objects.requireNonNull(adjacency, "adjacency");
        Objects.requireNonNull(scan, "scan");
        activeFeatures = List.copyOf(activeFeatures);
        selected = List.copyOf(selected);
        logits = List.copyOf(logits);
        int expected = selected.size() + (model.layers() + 1) * tokens.length() + logits.size();
        if (adjacency.size() != expected) {
            throw CircuitTracerException.invalidArgument("adjacency is " + adjacency.size() + "² but the graph has " + expected
                    + " nodes (" + selected.size() + " features, " + model.layers() * tokens.length() + " errors, "
                    + tokens.length() + " tokens, " + logits.size() + " logits)");
        }
    }

    /** Number of nodes {@code N}. */
    public int size() {
        return adjacency.size();
    }

    /** Index of the error node at (layer, position). */
    public int errorIndex(int layer, int position) {
        return selected.size() + layer * tokens.length() + position;
    }

    /** Index of the token node at {@code position}. */
    public int tokenIndex(int position) {
        return selected.size() + model.layers() * tokens.length() + position;
    }

    /** Index of the {@code k}-th logit node. */
    public int logitIndex(int k) {
        return selected.size() + (model.layers() + 1) * tokens.length() + k;
    }

    /** All nodes in matrix order. */
    public List<Node> nodes() {
        List<Node> nodes = new ArrayList<>(size());
        nodes.addAll(selected);
        for (int layer = 0; layer < model.layers(); layer++) {
            for (int p = 0; p < tokens.length(); p++) {
                nodes.add(new Node.ErrorNode(layer, p));
            }
        }
        for (int p = 0; p < tokens.length(); p++) {
            nodes.add(new Node.TokenNode(p, tokens.get(p)));
        }
        nodes.addAll(logits);
        return nodes;
    }
}
