package org.circuittracer.transformer.decoder;

import java.util.Objects;
import java.util.Optional;

/**
 * The weights of one self-attention layer, with {@code H} query heads, {@code KV} key/value heads and head width
 * {@code h}. Query head {@code i} reads key/value head {@code i / (H / KV)} (grouped-query attention).
 *
 * @param query     {@code [d, H·h]}; head {@code i} is columns {@code i·h ... (i+1)·h − 1}
 * @param key       {@code [d, KV·h]}
 * @param value     {@code [d, KV·h]}; key/value head {@code j} is columns {@code j·h ... (j+1)·h − 1} (its W_V)
 * @param output    {@code [H·h, d]}; head {@code i} is rows {@code i·h ... (i+1)·h − 1} (its W_O)
 * @param queryNorm per-head norm of the queries before rotation, weights {@code [h]} (Qwen-3)
 * @param keyNorm   per-head norm of the keys before rotation, weights {@code [h]} (Qwen-3)
 */
public record AttentionWeights(Linear query, Linear key, Linear value, Linear output,
                               Optional<NormWeights> queryNorm, Optional<NormWeights> keyNorm) {

    public AttentionWeights {
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(queryNorm, "queryNorm");
        Objects.requireNonNull(keyNorm, "keyNorm");
    }
}
