package org.circuittracer.attribution.export;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.circuittracer.attribution.prune.GraphPruning;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.Tokenizer;

/**
 * What {@link GraphJsonExporter} needs besides the graph.
 *
 * @param slug                the graph's file-safe name: the file is {@code <slug>.json}
 * @param scan                the transcoder-set identifier written to {@code metadata.scan}; {@code null} takes the
 *                            graph's own scan
 * @param promptTokens        each prompt token decoded separately (raw text, special tokens kept), one per position;
 *                            see {@link #decodeEach}
 * @param nodeThreshold       node-pruning threshold in [0, 1] (default 0.8)
 * @param edgeThreshold       edge-pruning threshold in [0, 1] (default 0.98)
 * @param strictNodeIds       whether an error node whose reference id equals a kept layer-0 feature's id
 *                            (docs/reference/graph-format.md §2.4.2) makes the export fail; by default ({@code false}) the error
 *                            node is written as {@code 0_{L}_{p}_error} instead and listed in the result's
 *                            {@link GraphJsonExporter.Built#renamed()}
 * @param createTimeMs        written to {@code metadata.info.create_time_ms}, or {@code null} to omit it (keeps
 *                            output deterministic)
 * @param headLoadings        how to split the kept links over attention heads (then written on every link and
 *                            described in {@code metadata.head_loadings}), or {@code null} for none
 */
public record ExportOptions(String slug, String scan, List<String> promptTokens, double nodeThreshold,
                            double edgeThreshold, boolean strictNodeIds, Long createTimeMs,
                            HeadLoadingExport headLoadings) {

    public ExportOptions {
        Objects.requireNonNull(slug, "slug");
        checkSlug(slug);
        promptTokens = List.copyOf(promptTokens);
        if (scan != null && scan.isEmpty()) {
            throw invalid("The scan must not be empty; give the transcoder set's identifier.");
        }
    }

    /** Default thresholds (0.8, 0.98), the graph's scan, colliding error ids renamed, no creation time. */
    public static ExportOptions of(String slug, List<String> promptTokens) {
        return new ExportOptions(slug, null, promptTokens, GraphPruning.DEFAULT_NODE_THRESHOLD,
                GraphPruning.DEFAULT_EDGE_THRESHOLD, false, null, null);
    }

    public ExportOptions withScan(String newScan) {
        return new ExportOptions(slug, newScan, promptTokens, nodeThreshold, edgeThreshold, strictNodeIds,
                createTimeMs, headLoadings);
    }

    public ExportOptions withThresholds(double node, double edge) {
        return new ExportOptions(slug, scan, promptTokens, node, edge, strictNodeIds, createTimeMs, headLoadings);
    }

    public ExportOptions withStrictNodeIds(boolean strict) {
        return new ExportOptions(slug, scan, promptTokens, nodeThreshold, edgeThreshold, strict, createTimeMs,
                headLoadings);
    }

    public ExportOptions withCreateTimeMs(Long millis) {
        return new ExportOptions(slug, scan, promptTokens, nodeThreshold, edgeThreshold, strictNodeIds, millis,
                headLoadings);
    }

    /** The same options, with the kept links split over attention heads by {@code loadings} (null: none). */
    public ExportOptions withHeadLoadings(HeadLoadingExport loadings) {
        return new ExportOptions(slug, scan, promptTokens, nodeThreshold, edgeThreshold, strictNodeIds, createTimeMs,
                loadings);
    }

    /** Each token decoded on its own, special tokens kept: the reference's {@code prompt_tokens}. */
    public static List<String> decodeEach(Tokenizer tokenizer, TokenSequence tokens) {
        List<String> out = new ArrayList<>(tokens.length());
        for (int p = 0; p < tokens.length(); p++) {
            out.add(tokenizer.decode(new int[] {tokens.get(p)}, false));
        }
        return out;
    }

    /** A slug names a file in the data directory: no separators, no control characters, not {@code .}/{@code ..}. */
    private static void checkSlug(String slug) {
        if (slug.isEmpty() || slug.equals(".") || slug.equals("..") || slug.chars().anyMatch(
                c -> c == '/' || c == '\\' || c < 0x20 || c == 0x7f)) {
            throw invalid("The slug '" + slug + "' is not a file-safe name: use letters, digits, '_', '.' and '-' "
                    + "(no path separators).");
        }
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }
}
