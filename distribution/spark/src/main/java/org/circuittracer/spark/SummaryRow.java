package org.circuittracer.spark;

import java.io.Serializable;
import java.util.List;

/**
 * One prompt's line of the summary table.
 *
 * @param status        {@link #OK}, {@link #SKIPPED} (outputs existed, {@code --resume}) or {@link #FAILED}
 * @param error         why it failed, or null
 * @param topLogits     the attributed logits' tokens, most likely first
 * @param topLogitProbs their probabilities
 * @param features      the features of the pruned graph as {@code LAYER_FEATURE}, most influential first
 * @param influences    their cumulative influence in the graph JSON (lower = more influential)
 * @param featureNodes  for each of {@code features}, its node ids in the graph JSON (one a position), for the
 *                      viewer's {@code pinnedIds}
 * @param seconds       attribution and writing, in seconds (0 when skipped or failed early)
 * @param metadata      the graph's entry of {@code graph-metadata.json} as JSON, or null (not in the table)
 */
record SummaryRow(int number, String slug, String prompt, String status, String error, List<String> topLogits,
                  List<Double> topLogitProbs, Double replacementScore, Double completenessScore, Integer nodes,
                  Integer links, double seconds, List<String> features, List<Double> influences, List<List<String>> featureNodes,
                  String metadata)
        implements Serializable {

    static final String OK = "ok";
    static final String SKIPPED = "skipped";
    static final String FAILED = "failed";

    SummaryRow {
        topLogits = List.copyOf(topLogits);
        topLogitProbs = List.copyOf(topLogitProbs);
        features = List.copyOf(features);
        influences = List.copyOf(influences);
        featureNodes = featureNodes.stream().map(List::copyOf).toList();
    }

    static SummaryRow failed(PromptRow row, String reason, double seconds) {
        return new SummaryRow(row.number(), row.slug(), row.shown(), FAILED, reason, List.of(), List.of(), null, null,
                null, null, seconds, List.of(), List.of(), List.of(), null);
    }
}
