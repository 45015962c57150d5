package org.circuittracer.spi.model;

import org.circuittracer.spi.CircuitTracerException;

/**
 * One attention score to explain: head {@code head} of layer {@code layer}, query position {@code query} attending to
 * key position {@code key} ({@code key ≤ query}).
 */
public record QkQuery(int layer, int head, int query, int key) {

    public QkQuery {
        if (layer < 0 || head < 0 || key < 0 || query < key) {
            throw CircuitTracerException.invalidArgument("A QK query needs layer >= 0, head >= 0 and 0 <= key <= "
                    + "query; got layer " + layer + ", head " + head + ", query " + query + ", key " + key + ".");
        }
    }
}
