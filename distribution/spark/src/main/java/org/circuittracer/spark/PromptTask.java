package org.circuittracer.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.util.LongAccumulator;

import org.circuittracer.attribution.export.GraphJsonExporter;
import org.circuittracer.cli.ModelSpec;
import org.circuittracer.cli.PromptAttribution;
import org.circuittracer.cli.batch.BatchRequest;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCategory;
import org.circuittracer.spi.attribution.AttributionListener;

/**
 * A Spark task: the prompts of one partition, each run through {@code attribute}'s pipeline on this executor's model
 * (opened once per JVM). Outputs go to fixed names by temporary file and rename, so a retried task replaces them whole;
 * a prompt that is bad input becomes a failed row and the task goes on; other errors fail the task for Spark to retry.
 */
final class PromptTask implements FlatMapFunction<Iterator<PromptRow>, SummaryRow> {

    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ModelSpec model;
    private final PromptAttribution.Settings settings;
    private final String out;
    private final boolean resume;
    private final Set<String> failFirstAttempt;
    private final LongAccumulator done;

    PromptTask(BatchRequest request, LongAccumulator done) {
        this.model = request.model();
        this.settings = request.settings();
        this.out = request.out().toAbsolutePath().toString();
        this.resume = request.resume();
        this.failFirstAttempt = Set.copyOf(request.failFirstAttempt());
        this.done = done;
    }

    @Override
    public Iterator<SummaryRow> call(Iterator<PromptRow> rows) {
        OutputLayout layout = new OutputLayout(Path.of(out));
        List<SummaryRow> results = new ArrayList<>();
        while (rows.hasNext()) {
            results.add(run(rows.next(), layout));
            done.add(1);
        }
        return results.iterator();
    }

    private SummaryRow run(PromptRow row, OutputLayout layout) {
        if (row.problem() != null) {
            return SummaryRow.failed(row, row.problem(), 0);
        }
        Path json = layout.graphJson(row.slug());
        Path graphFile = layout.graphFile(row.slug());
        if (resume && Files.isRegularFile(json) && Files.isRegularFile(graphFile)) {
            return existing(row, json);
        }
        removeStaleTemporaries(json);
        removeStaleTemporaries(graphFile);
        long start = System.nanoTime();
        PromptAttribution.Result result;
        try {
            PromptAttribution.Request request = new PromptAttribution.Request(row.text(), row.ids(), row.slug(),
                    row.targets(), settings, layout.graphDirectory(), graphFile, false,
                    List.of("--model", model.model()));
            result = ExecutorModels.get(model).pipeline().run(request, AttributionListener.NONE, warning -> { });
        } catch (CircuitTracerException e) {
            if (e.category() != ErrorCategory.USER_ERROR) {
                throw e;
            }
            return SummaryRow.failed(row, e.getMessage(), seconds(start));
        }
        injectFailure(row, json);
        List<List<String>> nodes;
        try {
            nodes = FeatureNodes.of(JSON.readTree(json.toFile()), result.features());
        } catch (IOException e) {
            // the file was just written: not the prompt's fault, so the task fails and Spark retries it
            throw new UncheckedIOException("Cannot read back the graph JSON just written, " + json, e);
        }
        return new SummaryRow(row.number(), row.slug(), row.shown(), SummaryRow.OK, null,
                result.topLogits().stream().map(PromptAttribution.TopLogit::token).toList(),
                result.topLogits().stream().map(PromptAttribution.TopLogit::probability).toList(),
                result.export().scores().replacement(), result.export().scores().completeness(),
                result.export().nodes(), result.export().links(), seconds(start),
                names(result.features()), influences(result.features()), nodes, result.metadata().toString());
    }

    /** For tests of retries: the first attempt of a named prompt dies after its outputs, leaving a half-written file. */
    private void injectFailure(PromptRow row, Path json) {
        TaskContext context = TaskContext.get();
        if (failFirstAttempt.contains(row.slug()) && context != null && context.attemptNumber() == 0) {
            try {
                Files.writeString(json.resolveSibling("." + json.getFileName() + ".injected.tmp"), "{\"trunc",
                        StandardCharsets.UTF_8);
            } catch (IOException ignored) {
                // the failure below is what the test needs
            }
            throw new IllegalStateException("injected failure of the first attempt for prompt " + row.slug());
        }
    }

    /** The summary of outputs a previous run wrote, read back from the graph JSON. */
    private static SummaryRow existing(PromptRow row, Path json) {
        JsonNode root;
        try {
            root = JSON.readTree(json.toFile());
        } catch (IOException e) {
            return SummaryRow.failed(row, "--resume found " + json + " but cannot read it (" + e.getMessage()
                    + "); delete it and run again.", 0);
        }
        JsonNode metadata = root.path("metadata");
        List<String> logits = new ArrayList<>();
        List<Double> probabilities = new ArrayList<>();
        for (JsonNode node : root.path("nodes")) {
            if (GraphJsonExporter.LOGIT.equals(node.path("feature_type").asText())) {
                String clerp = node.path("clerp").asText();
                int open = clerp.indexOf('"');
                int close = clerp.lastIndexOf("\" (p=");
                logits.add(open >= 0 && close > open ? clerp.substring(open + 1, close) : clerp);
                probabilities.add(node.path("token_prob").asDouble());
            }
        }
        List<PromptAttribution.GraphFeature> features = PromptAttribution.features(root);
        JsonNode scores = metadata.path(GraphJsonExporter.SCORES_FIELD);
        return new SummaryRow(row.number(), row.slug(), row.shown(), SummaryRow.SKIPPED, null, logits, probabilities,
                number(scores.path("replacement")), number(scores.path("completeness")), root.path("nodes").size(),
                root.path("links").size(), 0, names(features), influences(features), FeatureNodes.of(root, features),
                metadata.toString());
    }

    private static Double number(JsonNode n) {
        return n.isNumber() ? n.asDouble() : null;
    }

    private static List<String> names(List<PromptAttribution.GraphFeature> features) {
        return features.stream().map(f -> f.layer() + "_" + f.feature()).toList();
    }

    private static List<Double> influences(List<PromptAttribution.GraphFeature> features) {
        return features.stream().map(PromptAttribution.GraphFeature::influence).toList();
    }

    /** Deletes temporary files a killed attempt left beside {@code target} ({@code .NAME.*.tmp}). */
    static void removeStaleTemporaries(Path target) {
        Path dir = target.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            return;
        }
        String prefix = "." + target.getFileName() + ".";
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = f.getFileName().toString();
                if (name.startsWith(prefix) && name.endsWith(".tmp")) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            // a stray temporary file is harmless: readers ignore dot files
        }
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }
}
