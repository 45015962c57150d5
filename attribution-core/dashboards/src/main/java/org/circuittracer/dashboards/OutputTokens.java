package org.circuittracer.dashboards;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.stream.IntStream;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.TransformerModel;

/**
 * Top and bottom output tokens of features: the scores {@code ⟨d, U[:, t]⟩} of the feature's decoder direction
 * {@code d} against every unembedding vector, ranked.
 *
 * <p>{@code d} is the sum of the feature's decoder rows over all the output layers it writes to: for a per-layer
 * transcoder the one row, for a cross-layer transcoder its total write into the residual stream, which is what the
 * unembedding reads along the direct path. The final norm is left out, as is the unembedding bias and the mean
 * unembedding vector (subtracting it shifts every score of a feature equally and leaves the ranking unchanged).
 *
 * <p>Tokens are the ids below both the model's logit count and the tokenizer's vocabulary. The unembedding is fetched in
 * chunks of tokens and the features in chunks, so no more than about 16 M scores exist at a time.
 */
final class OutputTokens {

    private static final int FEATURE_CHUNK = 512;
    private static final int SCORE_BUDGET = 1 << 24;

    private OutputTokens() {
    }

    /** The rankings of {@code features} of {@code layer} (ascending ids), {@code k} tokens on each side. */
    static OutputTokenRanking[] rank(TransformerModel model, SparseDictionary dictionary, int layer, int[] features,
                                     int k) {
        int vocabulary = vocabulary(model);
        int tokenChunk = Math.max(1, Math.min(vocabulary, SCORE_BUDGET / FEATURE_CHUNK));
        OutputTokenRanking[] out = new OutputTokenRanking[features.length];
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int f0 = 0; f0 < features.length; f0 += FEATURE_CHUNK) {
                int[] chunk = java.util.Arrays.copyOfRange(features, f0, Math.min(features.length, f0 + FEATURE_CHUNK));
                Selection[] selections = new Selection[chunk.length];
                for (int i = 0; i < chunk.length; i++) {
                    selections[i] = new Selection(Math.min(k, vocabulary));
                }
                try (NDManager scope = manager.newSubManager()) {
                    NDArray directions = decoderDirections(scope, dictionary, layer, chunk);
                    for (int t0 = 0; t0 < vocabulary; t0 += tokenChunk) {
                        int t1 = Math.min(vocabulary, t0 + tokenChunk);
                        try (NDManager inner = scope.newSubManager()) {
                            NDArray u = model.unembeddingVectors(inner, IntStream.range(t0, t1).toArray())
                                    .toType(DataType.FLOAT32, false);
                            float[] scores = directions.matMul(u.transpose()).toFloatArray();
                            int width = t1 - t0;
                            for (int i = 0; i < chunk.length; i++) {
                                selections[i].offer(scores, i * width, width, t0);
                            }
                        }
                    }
                }
                for (int i = 0; i < chunk.length; i++) {
                    out[f0 + i] = selections[i].ranking();
                }
            }
        }
        return out;
    }

    /** The token ids ranked: {@code [0, min(model logits, tokenizer vocabulary))}. */
    static int vocabulary(TransformerModel model) {
        return Math.min(model.config().vocabularySize(), model.tokenizer().vocabularySize());
    }

    /** {@code [n, d]} float32: each feature's decoder rows summed over its output layers. */
    static NDArray decoderDirections(NDManager manager, SparseDictionary dictionary, int layer, int[] features) {
        NDArray sum = null;
        for (int m : dictionary.outputLayers(layer)) {
            NDArray rows = dictionary.decoderRows(manager, layer, features, m).toType(DataType.FLOAT32, false);
            sum = sum == null ? rows : sum.add(rows);
        }
        return sum;
    }

    /** Running top-k and bottom-k of one feature's scores, ties to the smaller id. */
    private static final class Selection {
        private final int k;
        private final int[] topIds;
        private final float[] top;
        private final int[] bottomIds;
        private final float[] bottom;
        private int n;
        private int m;

        Selection(int k) {
            this.k = k;
            topIds = new int[k];
            top = new float[k];
            bottomIds = new int[k];
            bottom = new float[k];
        }

        void offer(float[] scores, int offset, int width, int firstId) {
            for (int j = 0; j < width; j++) {
                float s = scores[offset + j];
                int id = firstId + j;
                n = insert(topIds, top, n, id, s, true);
                m = insert(bottomIds, bottom, m, id, s, false);
            }
        }

        /** Inserts (id, s) into the sorted prefix of length {@code size} if it belongs among the k best. */
        private int insert(int[] ids, float[] values, int size, int id, float s, boolean descending) {
            if (k == 0) {
                return 0;
            }
            if (size == k && !before(s, id, values[k - 1], ids[k - 1], descending)) {
                return size;
            }
            int i = size == k ? k - 1 : size;
            while (i > 0 && before(s, id, values[i - 1], ids[i - 1], descending)) {
                values[i] = values[i - 1];
                ids[i] = ids[i - 1];
                i--;
            }
            values[i] = s;
            ids[i] = id;
            return Math.min(k, size + 1);
        }

        private static boolean before(float s, int id, float other, int otherId, boolean descending) {
            int c = descending ? Float.compare(other, s) : Float.compare(s, other);
            return c < 0 || c == 0 && id < otherId;
        }

        OutputTokenRanking ranking() {
            return new OutputTokenRanking(java.util.Arrays.copyOf(topIds, n), java.util.Arrays.copyOf(top, n),
                    java.util.Arrays.copyOf(bottomIds, m), java.util.Arrays.copyOf(bottom, m));
        }
    }
}
