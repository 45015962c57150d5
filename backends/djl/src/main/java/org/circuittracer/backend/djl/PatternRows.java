package org.circuittracer.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.Objects;
import org.circuittracer.transformer.decoder.Attention;
import org.circuittracer.transformer.decoder.AttentionSettings;
import org.circuittracer.transformer.decoder.Block;
import org.circuittracer.transformer.decoder.NormWeights;
import org.circuittracer.transformer.decoder.RotaryEmbedding;
import org.circuittracer.transformer.linear.FrozenAttention;

/**
 * A layer's clean attention pattern recomputed on demand from its queries and keys ({@code [H, T, h]} and
 * {@code [KV, T, h]}, kept instead of the {@code [H, T, T]} pattern), plus each row's log-sum-exp ({@code [H, T, 1]},
 * computed once). Rows come from the same {@link Attention#pattern} call and causal mask as the forward pass; blocks of
 * keys (what the adjoint asks for) are {@code exp(logit − lse)} of the same logits, masked: equal to the softmax's
 * probabilities to float rounding, without the full rows a softmax needs.
 */
final class PatternRows implements FrozenAttention.Pattern {

    private final Attention attention;
    private final NDArray queries;
    private final NDArray keys;
    private final NDArray logSumExp;

    private PatternRows(Attention attention, NDArray queries, NDArray keys, NDArray logSumExp) {
        this.attention = attention;
        this.queries = queries;
        this.keys = keys;
        this.logSumExp = logSumExp;
    }

    /**
     * Queries and keys of {@code block}'s attention recomputed as the forward pass computes them, from the clean
     * block input {@code [T, d]} and its {@code ln1} scale {@code [T, 1]}, and the rows' log-sum-exp computed in blocks
     * of at most {@code blockFloats} logits; owned by {@code state}.
     */
    static PatternRows of(Block block, NDArray residual, NDArray ln1Scale, NDManager state, long blockFloats) {
        Objects.requireNonNull(residual, "clean hook_resid_pre");
        Objects.requireNonNull(ln1Scale, "clean ln1.hook_scale");
        Attention attention = block.attention();
        AttentionSettings settings = attention.settings();
        int length = Math.toIntExact(residual.getShape().get(0));
        try (NDManager scope = state.newSubManager()) {
            scope.tempAttachAll(residual, ln1Scale);
            NormWeights ln1 = block.ln1();
            NDArray u = ln1.applyWithScale(residual, ln1Scale);
            RotaryEmbedding.Tables rotation = settings.rotary()
                    .map(r -> r.tables(scope, 0, length, u.getDataType())).orElse(null);
            NDArray queries = attention.queries(u, rotation);
            NDArray keys = attention.keys(u, rotation);
            // log Σ_k exp(logit) per row, in blocks of query rows over the keys they see
            int rowsPerBlock = (int) Math.max(1, Math.min(length, blockFloats / ((long) settings.heads() * length)));
            NDList parts = new NDList();
            for (int first = 0; first < length; first += rowsPerBlock) {
                int count = Math.min(rowsPerBlock, length - first);
                int seen = first + count;
                try (NDManager rows = scope.newSubManager()) {
                    NDArray logits = attention.logits(slice(queries, rows, ":, {}:{}, :", first, seen),
                            slice(keys, rows, ":, :{}, :", seen))
                            .add(Attention.maskBias(rows, first, count, seen, settings.slidingWindow()));
                    NDArray max = logits.max(new int[] {-1}, true);
                    NDArray lse = logits.sub(max).exp().sum(new int[] {-1}, true).log().add(max); // [H, count, 1]
                    lse.attach(scope);
                    parts.add(lse);
                }
            }
            NDArray logSumExp = NDArrays.concat(parts, 1);
            queries.attach(state);
            keys.attach(state);
            logSumExp.attach(state);
            return new PatternRows(attention, queries, keys, logSumExp);
        }
    }

    /** Logits, a log-sum-exp and a mask per entry, a few elementwise passes. */
    @Override
    public double entryCost() {
        return 2.0 * keys.getShape().get(2) + 12;
    }

    @Override
    public NDArray rows(NDManager manager, int first, int count, int keyCount) {
        if (first < 0 || count < 1 || keyCount < first + count || keyCount > length()) {
            throw new IllegalArgumentException("pattern rows " + first + "+" + count + " over " + keyCount
                    + " keys of a " + length() + "-token prompt");
        }
        NDArray mask = Attention.maskBias(manager, first, count, keyCount, attention.settings().slidingWindow());
        return attention.pattern(slice(queries, manager, ":, {}:{}, :", first, first + count),
                slice(keys, manager, ":, :{}, :", keyCount), mask);
    }

    @Override
    public NDArray columns(NDManager manager, int first, int count, int queryCount) {
        if (first < 0 || count < 1 || queryCount < first + count || queryCount > length()) {
            throw new IllegalArgumentException("pattern columns " + first + "+" + count + " for " + queryCount
                    + " queries of a " + length() + "-token prompt");
        }
        int rows = queryCount - first;
        NDArray logits = attention.logits(slice(queries, manager, ":, {}:{}, :", first, queryCount),
                slice(keys, manager, ":, {}:{}, :", first, first + count));               // [H, rows, count]
        // query first + i sees key first + j iff j ≤ i (and i − j < window): the forward's mask, shifted; a hidden
        // entry gets −10³⁰, whose exp is exactly 0 (−∞ would not survive 0·∞ in building the bias)
        NDArray i = manager.arange(0, rows).reshape(rows, 1);
        NDArray j = manager.arange(0, count).reshape(1, count);
        NDArray visible = j.lte(i);
        int window = attention.settings().slidingWindow();
        if (window > 0) {
            visible = visible.logicalAnd(i.sub(j).lt(window));
        }
        NDArray hidden = visible.logicalNot().toType(DataType.FLOAT32, false).mul(-1e30f);      // [rows, count]
        return logits.sub(slice(logSumExp, manager, ":, {}:{}, :", first, queryCount)).add(hidden).exp();
    }

    private int length() {
        return Math.toIntExact(keys.getShape().get(1));
    }

    private static NDArray slice(NDArray source, NDManager owner, String index, Object... bounds) {
        NDArray slice = source.get(new NDIndex(index, bounds));
        slice.attach(owner);
        return slice;
    }
}
