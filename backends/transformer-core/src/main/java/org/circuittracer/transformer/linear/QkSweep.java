package org.circuittracer.transformer.linear;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.QkAttribution;
import org.circuittracer.spi.model.QkQuery;
import org.circuittracer.spi.model.SourceWrites;

/**
 * Attention scores of a {@link FrozenTransformer} split over sources (docs/attention.md, "QK attribution"): one
 * forward sweep of the sources through the frozen model up to the highest layer asked about gives each source's change
 * {@code x_a(m)} of every {@code resid_pre(m)}; the layer's {@link FrozenQueryKey} turns the changes at the query and
 * key positions into query and key parts {@code Q_a}, {@code K_b}; the clean query and key minus the sources' parts are
 * the rests {@code Q_c}, {@code K_c}.
 */
public final class QkSweep {

    private QkSweep() {
    }

    /**
     * @param queryKeys one per layer of {@code model}
     * @throws CircuitTracerException INVALID_ARGUMENT for queries or writes outside the model or the prompt
     */
    public static List<QkAttribution> run(NDManager manager, FrozenTransformer model, List<FrozenQueryKey> queryKeys,
                                          LinearizationSpec spec, SourceWrites sources, List<QkQuery> queries) {
        validate(model, spec, sources, queries);
        int top = queries.stream().mapToInt(QkQuery::layer).max().orElse(-1);
        int positions = queries.stream().mapToInt(QkQuery::query).max().orElse(0) + 1;
        QkAttribution[] results = new QkAttribution[queries.size()];
        int s = sources.sources();
        try (NDManager scope = manager.newSubManager()) {
            NDArray change = HeadLoadingSweep.initialChange(scope, model, sources, positions);
            for (int m = 0; m <= top; m++) {
                FrozenLayer block = model.layers().get(m);
                for (int i = 0; i < queries.size(); i++) {
                    QkQuery query = queries.get(i);
                    if (query.layer() != m) {
                        continue;
                    }
                    FrozenQueryKey qk = queryKeys.get(m);
                    try (NDManager part = scope.newSubManager()) {
                        NDArray atQuery = change.get(new NDIndex(":, {}, :", query.query()));
                        NDArray atKey = change.get(new NDIndex(":, {}, :", query.key()));
                        atQuery.attach(part);
                        atKey.attach(part);
                        NDArray q = qk.queries(atQuery, query.head(), query.query()).toType(DataType.FLOAT32, false);
                        NDArray k = qk.keys(atKey, query.head() / qk.groupSize(), query.key())
                                .toType(DataType.FLOAT32, false);
                        results[i] = split(query, s, q.toFloatArray(), k.toFloatArray(),
                                qk.cleanQuery(query.head(), query.query()),
                                qk.cleanKey(query.head() / qk.groupSize(), query.key()), qk.scale(),
                                qk.logitSoftcap());
                    }
                }
                if (m < top) {
                    NDArray next;
                    try (NDManager step = scope.newSubManager()) { // the layer's temporaries freed with it
                        step.tempAttachAll(change);
                        NDArray input = block.ln1().forward(change, positions);
                        next = HeadLoadingSweep.nextLayer(step, model, spec, sources, block, m, change, input,
                                positions);
                        next.attach(scope);
                    }
                    change.close();
                    change = next;
                }
            }
        }
        return List.of(results);
    }

    /** The terms, in double and rounded once: {@code q [S, dh]}, {@code k [S, dh]}. */
    private static QkAttribution split(QkQuery query, int sources, float[] q, float[] k, float[] cleanQ, float[] cleanK,
                                       float scale, float softcap) {
        int width = cleanQ.length;
        double[] restQ = new double[width];
        double[] restK = new double[width];
        for (int j = 0; j < width; j++) {
            restQ[j] = cleanQ[j];
            restK[j] = cleanK[j];
            for (int a = 0; a < sources; a++) {
                restQ[j] -= q[a * width + j];
                restK[j] -= k[a * width + j];
            }
        }
        float[] pairwise = new float[sources * sources];
        float[] queryMarginal = new float[sources];
        float[] keyMarginal = new float[sources];
        for (int a = 0; a < sources; a++) {
            double againstRest = 0;
            double restAgainst = 0;
            for (int j = 0; j < width; j++) {
                againstRest += q[a * width + j] * restK[j];
                restAgainst += restQ[j] * k[a * width + j];
            }
            queryMarginal[a] = (float) (scale * againstRest);
            keyMarginal[a] = (float) (scale * restAgainst);
            for (int b = 0; b < sources; b++) {
                double dot = 0;
                for (int j = 0; j < width; j++) {
                    dot += (double) q[a * width + j] * k[b * width + j];
                }
                pairwise[a * sources + b] = (float) (scale * dot);
            }
        }
        double constant = 0;
        double score = 0;
        for (int j = 0; j < width; j++) {
            constant += restQ[j] * restK[j];
            score += (double) cleanQ[j] * cleanK[j];
        }
        double scaled = scale * score;
        double logit = softcap > 0 ? softcap * Math.tanh(scaled / softcap) : scaled;
        return new QkAttribution(query, sources, pairwise, queryMarginal, keyMarginal, (float) (scale * constant),
                (float) scaled, (float) logit);
    }

    private static void validate(FrozenTransformer model, LinearizationSpec spec, SourceWrites sources,
                                 List<QkQuery> queries) {
        int layers = model.layers().size();
        for (QkQuery query : queries) {
            if (query.layer() >= layers) {
                throw CircuitTracerException.invalidArgument("QK query " + query + " names layer " + query.layer()
                        + ", but the model has layers 0 to " + (layers - 1) + ".");
            }
            int heads = model.layers().get(query.layer()).attention().heads();
            if (query.head() >= heads) {
                throw CircuitTracerException.invalidArgument("QK query " + query + " names head " + query.head()
                        + ", but layer " + query.layer() + " has heads 0 to " + (heads - 1) + ".");
            }
            if (query.query() >= model.length()) {
                throw CircuitTracerException.invalidArgument("QK query " + query + " names position " + query.query()
                        + ", but the prompt has " + model.length() + " positions.");
            }
        }
        HeadLoadingSweep.validateWrites(model, spec, sources);
    }
}
