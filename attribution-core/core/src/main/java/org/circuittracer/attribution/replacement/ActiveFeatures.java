package org.circuittracer.attribution.replacement;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.graph.Node;

/**
 * The active features of a prompt as one coordinate list sorted by (layer, position, feature) (docs/reference/algorithm.md §3.3); the
 * index into it is a feature's <em>active index</em>. The features of layer ℓ occupy the contiguous range
 * {@code [layerStart(ℓ), layerStart(ℓ + 1))}, sorted by position. Immutable.
 */
public final class ActiveFeatures {

    private final int[] layerStart;
    private final int[] layers;
    private final int[] positions;
    private final int[] features;
    private final float[] values;

    private ActiveFeatures(int[] layerStart, int[] layers, int[] positions, int[] features, float[] values) {
        this.layerStart = layerStart;
        this.layers = layers;
        this.positions = positions;
        this.features = features;
        this.values = values;
    }

    /** Concatenates per-layer activations given in layer order {@code 0 … L−1}. */
    public static ActiveFeatures of(List<SparseActivations> perLayer) {
        int[] layerStart = new int[perLayer.size() + 1];
        for (int layer = 0; layer < perLayer.size(); layer++) {
            if (perLayer.get(layer).layer() != layer) {
                throw new IllegalArgumentException("activations of layer " + perLayer.get(layer).layer()
                        + " given in place of layer " + layer);
            }
            layerStart[layer + 1] = layerStart[layer] + perLayer.get(layer).size();
        }
        int n = layerStart[perLayer.size()];
        int[] layers = new int[n];
        int[] positions = new int[n];
        int[] features = new int[n];
        float[] values = new float[n];
        for (int layer = 0; layer < perLayer.size(); layer++) {
            SparseActivations code = perLayer.get(layer);
            int start = layerStart[layer];
            Arrays.fill(layers, start, start + code.size(), layer);
            System.arraycopy(code.positions(), 0, positions, start, code.size());
            System.arraycopy(code.features(), 0, features, start, code.size());
            System.arraycopy(code.values(), 0, values, start, code.size());
        }
        return new ActiveFeatures(layerStart, layers, positions, features, values);
    }

    /** {@code N_act}. */
    public int size() {
        return layers.length;
    }

    /** Number of layers {@code L}. */
    public int layerCount() {
        return layerStart.length - 1;
    }

    /** The first active index of {@code layer} ({@code layer == L} gives {@link #size()}). */
    public int layerStart(int layer) {
        return layerStart[layer];
    }

    public int layer(int activeIndex) {
        return layers[activeIndex];
    }

    public int position(int activeIndex) {
        return positions[activeIndex];
    }

    public int feature(int activeIndex) {
        return features[activeIndex];
    }

    public float value(int activeIndex) {
        return values[activeIndex];
    }

    /** The feature ids of {@code layer}'s active features, in active order. */
    public int[] featuresOf(int layer) {
        return Arrays.copyOfRange(features, layerStart[layer], layerStart[layer + 1]);
    }

    /** The positions of {@code layer}'s active features, in active order (ascending). */
    public int[] positionsOf(int layer) {
        return Arrays.copyOfRange(positions, layerStart[layer], layerStart[layer + 1]);
    }

    /** The activations of {@code layer}'s active features, in active order. */
    public float[] valuesOf(int layer) {
        return Arrays.copyOfRange(values, layerStart[layer], layerStart[layer + 1]);
    }

    /** Every active feature as a graph node. */
    public List<Node.FeatureNode> nodes() {
        List<Node.FeatureNode> nodes = new ArrayList<>(size());
        for (int i = 0; i < size(); i++) {
            nodes.add(node(i));
        }
        return nodes;
    }

    /** The graph node of one active feature. */
    public Node.FeatureNode node(int activeIndex) {
        return new Node.FeatureNode(layers[activeIndex], positions[activeIndex], features[activeIndex],
                values[activeIndex], activeIndex);
    }
}
