package org.circuittracer.spark;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import org.circuittracer.attribution.export.ExportOptions;
import org.circuittracer.cli.PromptAttribution;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * Reads the prompts of a batch: JSON Lines ({@code {"prompt": ..., "slug"?: ..., "target"?: ...}} or
 * {@code prompt_ids}) or Parquet with the same columns. A row that cannot run (no prompt, bad ids, a slug that is not
 * file-safe or is used twice) keeps its place with the reason, so the job reports it as a failed row.
 */
final class PromptFile {

    private static final ObjectMapper JSON = new ObjectMapper();

    private PromptFile() {
    }

    /** The rows of {@code file}, slugs assigned: given ones checked, the others made from the text, made unique. */
    static List<PromptRow> read(SparkSession spark, Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean parquet = name.endsWith(".parquet") || Files.isDirectory(file);
        return assignSlugs(parquet ? parquet(spark, file) : jsonLines(file));
    }

    static List<PromptRow> jsonLines(Path file) {
        List<PromptRow> rows = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                rows.add(jsonRow(number, line));
            }
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot read the prompts " + file + ": "
                    + e.getMessage() + ". Check the path and its permissions.", e);
        }
        return rows;
    }

    private static PromptRow jsonRow(int number, String line) {
        JsonNode o;
        try {
            o = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            return failed(number, "line " + number + " is not JSON (" + e.getOriginalMessage() + ")");
        }
        if (o == null || !o.isObject()) {
            return failed(number, "line " + number + " is not a JSON object");
        }
        String slug = o.path("slug").isTextual() ? o.get("slug").asText() : null;
        List<String> targets = null;
        JsonNode target = o.path("target");
        if (target.isTextual()) {
            targets = List.of(target.asText());
        } else if (target.isArray()) {
            targets = new ArrayList<>();
            for (JsonNode t : target) {
                targets.add(t.asText());
            }
        }
        JsonNode ids = o.path("prompt_ids");
        if (o.path("prompt").isTextual() && ids.isMissingNode()) {
            return new PromptRow(number, o.get("prompt").asText(), null, slug, targets, null);
        }
        if (ids.isArray() && !o.has("prompt")) {
            int[] parsed = new int[ids.size()];
            for (int i = 0; i < parsed.length; i++) {
                if (!ids.get(i).canConvertToInt() || ids.get(i).asInt() < 0) {
                    return failed(number, "prompt_ids of line " + number + " holds " + ids.get(i)
                            + ", not a non-negative token id");
                }
                parsed[i] = ids.get(i).asInt();
            }
            return new PromptRow(number, null, parsed, slug, targets, null);
        }
        return new PromptRow(number, null, null, slug, targets, "line " + number + " needs exactly one of \"prompt\" "
                + "(text) and \"prompt_ids\" (an array of token ids)");
    }

    static List<PromptRow> parquet(SparkSession spark, Path file) {
        List<Row> rows = spark.read().parquet(file.toString()).collectAsList();
        List<PromptRow> out = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            int number = i + 1;
            String text = string(r, "prompt");
            String slug = string(r, "slug");
            List<String> targets = null;
            if (has(r, "target")) {
                Object t = r.getAs("target");
                targets = t instanceof String s ? List.of(s)
                        : t instanceof scala.collection.Seq<?> seq ? seqStrings(seq) : null;
            }
            int[] ids = null;
            if (has(r, "prompt_ids")) {
                scala.collection.Seq<?> seq = r.getAs("prompt_ids");
                ids = new int[seq.size()];
                for (int k = 0; k < ids.length; k++) {
                    ids[k] = ((Number) seq.apply(k)).intValue();
                }
            }
            out.add((text == null) == (ids == null)
                    ? new PromptRow(number, null, null, slug, targets, "row " + number + " needs exactly one of "
                            + "\"prompt\" and \"prompt_ids\"")
                    : new PromptRow(number, text, ids, slug, targets, null));
        }
        return out;
    }

    private static List<String> seqStrings(scala.collection.Seq<?> seq) {
        List<String> out = new ArrayList<>();
        for (int k = 0; k < seq.size(); k++) {
            out.add(String.valueOf(seq.apply(k)));
        }
        return out;
    }

    private static boolean has(Row r, String column) {
        return java.util.Arrays.asList(r.schema().fieldNames()).contains(column) && !r.isNullAt(r.fieldIndex(column));
    }

    private static String string(Row r, String column) {
        return has(r, column) ? r.getAs(column).toString() : null;
    }

    private static PromptRow failed(int number, String problem) {
        return new PromptRow(number, null, null, null, null, problem);
    }

    /**
     * Gives every row a slug: a given one must be file-safe and unique; a made one (from the text's words, or
     * {@code prompt-N} for ids) gets {@code -2}, {@code -3}, ... when taken. Rows without a usable slug get
     * {@code row-N} so that their failure can be reported under a name.
     */
    static List<PromptRow> assignSlugs(List<PromptRow> rows) {
        Map<String, Integer> given = new HashMap<>();
        List<PromptRow> out = new ArrayList<>();
        for (PromptRow r : rows) {
            if (r.slug() != null && r.problem() == null) {
                String problem = fileSafe(r.slug());
                Integer first = given.putIfAbsent(r.slug(), r.number());
                if (problem == null && first != null) {
                    problem = "slug \"" + r.slug() + "\" is already used by prompt " + first + "; give each prompt "
                            + "its own slug";
                }
                out.add(problem == null ? r : r.withSlug("row-" + r.number(), problem));
            } else {
                out.add(r);
            }
        }
        List<PromptRow> named = new ArrayList<>();
        java.util.Set<String> taken = new java.util.HashSet<>(given.keySet());
        for (PromptRow r : out) {
            if (r.problem() != null && r.slug() == null) {
                named.add(r.withSlug("row-" + r.number(), r.problem()));
            } else if (r.slug() != null) {
                named.add(r);
            } else {
                String base = r.text() != null ? PromptAttribution.defaultSlug(r.text()) : "prompt-" + r.number();
                String slug = base;
                for (int k = 2; !taken.add(slug); k++) {
                    slug = base + "-" + k;
                }
                named.add(r.withSlug(slug, null));
            }
        }
        return named;
    }

    private static String fileSafe(String slug) {
        try {
            ExportOptions.of(slug, List.of());
            return null;
        } catch (CircuitTracerException e) {
            return e.getMessage();
        }
    }
}
