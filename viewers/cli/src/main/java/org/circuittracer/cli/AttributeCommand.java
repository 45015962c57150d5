package org.circuittracer.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.circuittracer.attribution.export.ExportOptions;
import org.circuittracer.attribution.export.GraphJsonExporter;
import org.circuittracer.attribution.graphfile.GraphFile;
import org.circuittracer.attribution.replacement.PromptTokens;
import org.circuittracer.runtime.ClasspathProviderRegistry;
import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.attribution.Attributor;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;

import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code circuit-tracer attribute}: one attribution graph, written for the viewer (and optionally as our graph file). */
@Command(name = "attribute", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compute the attribution graph of a prompt and write DIR/NAME.json (the viewer's graph JSON, "
                + "pruned with --node-threshold/--edge-threshold) and update DIR/graph-metadata.json.",
                "--model is required for now: the embedded demo model comes with a later issue."},
        footer = {"", "Example:",
                "  circuit-tracer attribute --model models/llama --transcoders transcoders/llama-plt-relu \\",
                "      --prompt-ids 0,113,47,97,94,63 --slug demo --graph-file-dir graphs --timings timings.json",
                "Then serve the graphs directory with the viewer."})
final class AttributeCommand implements Runnable {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Model directory (config.json, *.safetensors, tokenizer.json). Required for now.")
    Path model;

    @Option(names = "--transcoders", required = true, paramLabel = "DIR",
            description = "Transcoder (dictionary) directory.")
    Path transcoders;

    static final class Prompt {
        @Option(names = "--prompt", paramLabel = "TEXT", required = true,
                description = "Prompt text; a special token is prepended as the reference does.")
        String text;

        @Option(names = "--prompt-ids", paramLabel = "ID,ID,...", required = true,
                description = "Token ids, used verbatim (a special token is prepended when the first is not one).")
        String ids;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Prompt prompt;

    @Option(names = "--slug", required = true, paramLabel = "NAME", description = "Graph name (file-safe).")
    String slug;

    @Option(names = "--graph-file-dir", required = true, paramLabel = "DIR",
            description = "Directory for NAME.json and graph-metadata.json (created if missing).")
    Path graphFileDir;

    @Option(names = "--graph-output-path", paramLabel = "FILE",
            description = "Also save the unpruned graph in circuit-tracer's own graph file format.")
    Path graphOutputPath;

    @Option(names = "--max-n-logits", defaultValue = "10", paramLabel = "N",
            description = "Most logits to attribute from (default: ${DEFAULT-VALUE}).")
    int maxNLogits;

    @Option(names = "--desired-logit-prob", defaultValue = "0.95", paramLabel = "P",
            description = "Stop adding logits once their probability reaches P (default: ${DEFAULT-VALUE}).")
    double desiredLogitProb;

    @Option(names = "--max-feature-nodes", defaultValue = "7500", paramLabel = "N",
            description = "Most feature nodes, 0 = all (default: ${DEFAULT-VALUE}).")
    int maxFeatureNodes;

    @Option(names = "--batch-size", defaultValue = "256", paramLabel = "N",
            description = "Rows per backward batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--node-threshold", defaultValue = "0.8", paramLabel = "X",
            description = "Node pruning threshold for the viewer JSON (default: ${DEFAULT-VALUE}).")
    double nodeThreshold;

    @Option(names = "--edge-threshold", defaultValue = "0.98", paramLabel = "Y",
            description = "Edge pruning threshold for the viewer JSON (default: ${DEFAULT-VALUE}).")
    double edgeThreshold;

    @Option(names = "--timings", paramLabel = "FILE", description = "Write the phase timings as JSON.")
    Path timings;

    @Option(names = "--backend", defaultValue = "djl", paramLabel = "NAME",
            description = "Backend provider (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--dictionary-format", paramLabel = "NAME",
            description = "Dictionary format provider (default: the one format that recognises --transcoders).")
    String dictionaryFormat;

    @Option(names = "--attributor", defaultValue = "exact", paramLabel = "NAME",
            description = "Attributor provider (default: ${DEFAULT-VALUE}).")
    String attributor;

    @Option(names = "--plugins", paramLabel = "DIR",
            description = "Directory of plugin jars (default: plugins/ beside circuit-tracer.jar, if present).")
    Path plugins;

    @Option(names = {"-q", "--quiet"}, description = "No progress output.")
    boolean quiet;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    @Override
    public void run() {
        int[] ids = prompt.ids == null ? null : parseIds(prompt.ids);
        validateSettings();
        AttributionTargets.Salient targets = new AttributionTargets.Salient(maxNLogits, desiredLogitProb);
        requireDirectory(model, "--model");
        requireDirectory(transcoders, "--transcoders");
        long start = System.nanoTime();
        Map<String, Object> timing = new LinkedHashMap<>();
        Path dir = plugins != null ? plugins : Launch.defaultPluginDirectory();
        try (ClasspathProviderRegistry registry = ClasspathProviderRegistry.withPluginDirectory(dir)) {
            BackendProvider backendProvider = registry.get(ProviderKind.BACKEND, backend);
            DictionaryFormatProvider format = dictionaryFormat != null
                    ? registry.get(ProviderKind.DICTIONARY_FORMAT, dictionaryFormat)
                    : detectFormat(registry.all(ProviderKind.DICTIONARY_FORMAT), transcoders);
            Attributor attributorImpl = registry.get(ProviderKind.ATTRIBUTOR, attributor).create(Map.of());

            ProgressListener progress = new ProgressListener(spec.commandLine().getErr(), quiet);
            progress.note("Loading model " + model + " (" + backendProvider.name() + ")");
            long t = System.nanoTime();
            try (TransformerModel m = backendProvider.create(ModelSource.of(model))) {
                timing.put("load_model_s", seconds(System.nanoTime() - t));
                progress.note("Loading transcoders " + transcoders + " (" + format.name() + ")");
                t = System.nanoTime();
                try (SparseDictionary dictionary = format.create(DictionarySource.of(transcoders))) {
                    timing.put("load_transcoders_s", seconds(System.nanoTime() - t));
                    String modelName = m.config().modelName();
                    TokenSequence tokens = ids != null
                            ? PromptTokens.prepare(new TokenSequence(ids), m.tokenizer(), modelName)
                            : PromptTokens.tokenize(prompt.text, m.tokenizer(), modelName);
                    tokens.requireInVocabulary(m.tokenizer().vocabularySize());
                    AttributionRequest request = new AttributionRequest(m, dictionary, tokens,
                            targets, maxFeatureNodes, batchSize, 4);
                    t = System.nanoTime();
                    AttributionGraph graph = attributorImpl.attribute(request, progress);
                    timing.put("attribution_s", seconds(System.nanoTime() - t));
                    progress.close();

                    t = System.nanoTime();
                    ExportOptions options = ExportOptions.of(slug, ExportOptions.decodeEach(m.tokenizer(), graph.tokens()))
                            .withThresholds(nodeThreshold, edgeThreshold)
                            .withCreateTimeMs(System.currentTimeMillis());
                    GraphJsonExporter.Result result = GraphJsonExporter.export(graph, options, graphFileDir);
                    timing.put("export_s", seconds(System.nanoTime() - t));
                    if (graphOutputPath != null) {
                        t = System.nanoTime();
                        if (graphOutputPath.toAbsolutePath().getParent() != null) {
                            Files.createDirectories(graphOutputPath.toAbsolutePath().getParent());
                        }
                        GraphFile.save(graph, graphOutputPath);
                        timing.put("save_graph_file_s", seconds(System.nanoTime() - t));
                    }
                    timing.put("total_s", seconds(System.nanoTime() - start));
                    Map<String, Double> phases = new LinkedHashMap<>();
                    progress.phaseNanos().forEach((phase, nanos) -> phases.put(phase.name(), seconds(nanos)));
                    if (timings != null) {
                        writeTimings(graph, tokens, timing, phases);
                    }
                    var out = spec.commandLine().getOut();
                    out.printf("Wrote %s (%d nodes, %d links; %d tokens, %d active features, %d selected, %d logits)%n",
                            result.graphFile(), result.nodes(), result.links(), graph.tokens().length(),
                            graph.activeFeatures().size(), graph.selected().size(), graph.logits().size());
                    out.printf("Updated %s%n", result.indexFile());
                    if (graphOutputPath != null) {
                        out.printf("Saved graph file %s%n", graphOutputPath);
                    }
                    if (timings != null) {
                        out.printf("Wrote timings %s%n", timings);
                    }
                    out.flush();
                }
            }
        } catch (OutOfMemoryError e) {
            throw new CircuitTracerException(StandardErrorCode.OUT_OF_RESOURCES, "Out of memory during attribution. "
                    + "Give Java more memory (java -Xmx...) or lower --batch-size / --max-feature-nodes.", e);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot write output: " + e.getMessage()
                    + ". Check the directory and its permissions.", e);
        }
    }

    private void writeTimings(AttributionGraph graph, TokenSequence tokens, Map<String, Object> timing,
                              Map<String, Double> phases) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("slug", slug);
        json.put("tokens", tokens.length());
        json.put("active_features", graph.activeFeatures().size());
        json.put("selected_features", graph.selected().size());
        json.put("logits", graph.logits().size());
        json.put("batch_size", batchSize);
        json.put("phases", phases);
        json.putAll(timing);
        if (timings.toAbsolutePath().getParent() != null) {
            Files.createDirectories(timings.toAbsolutePath().getParent());
        }
        JSON.writeValue(timings.toFile(), json);
    }

    /** Fails before anything is loaded: the checks that otherwise run only after attribution. */
    private void validateSettings() {
        ExportOptions.of(slug, List.of()); // the slug must be file-safe
        checkRange("--node-threshold", nodeThreshold, 0, 1);
        checkRange("--edge-threshold", edgeThreshold, 0, 1);
        checkRange("--desired-logit-prob", desiredLogitProb, Double.MIN_VALUE, 1);
        if (maxNLogits < 1) {
            throw usage("--max-n-logits must be >= 1, got " + maxNLogits + ".");
        }
        if (maxFeatureNodes < 0) {
            throw usage("--max-feature-nodes must be >= 0 (0 = all), got " + maxFeatureNodes + ".");
        }
        if (batchSize < 1) {
            throw usage("--batch-size must be >= 1, got " + batchSize + ".");
        }
    }

    private void checkRange(String option, double value, double min, double max) {
        if (!(value >= min && value <= max)) {
            throw usage(option + " must be in [" + (min == Double.MIN_VALUE ? "0 (exclusive)" : min) + ", " + max
                    + "], got " + value + ".");
        }
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), "Invalid value: " + message);
    }

    private int[] parseIds(String text) {
        String[] parts = text.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i].trim();
            try {
                out[i] = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '--prompt-ids': '"
                        + p + "' is not a token id; give comma-separated non-negative integers, e.g. 0,17,42.");
            }
            if (out[i] < 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '--prompt-ids': "
                        + "token ids are non-negative, got " + out[i] + ".");
            }
        }
        return out;
    }

    private void requireDirectory(Path path, String option) {
        if (!Files.isDirectory(path)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, option + " " + path
                    + " is not a directory. Give the directory that holds the files.");
        }
    }

    static DictionaryFormatProvider detectFormat(List<DictionaryFormatProvider> formats, Path directory) {
        List<DictionaryFormatProvider> matching = new ArrayList<>();
        for (DictionaryFormatProvider f : formats) {
            if (f.recognizes(directory)) {
                matching.add(f);
            }
        }
        String all = formats.stream().map(DictionaryFormatProvider::name).collect(Collectors.joining(", "));
        if (matching.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "No dictionary format recognises "
                    + directory + " (installed formats: " + (all.isEmpty() ? "none" : all) + "). Check the directory, "
                    + "or choose one with --dictionary-format NAME.");
        }
        if (matching.size() > 1) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Several dictionary formats recognise "
                    + directory + ": " + matching.stream().map(DictionaryFormatProvider::name)
                    .collect(Collectors.joining(", ")) + ". Choose one with --dictionary-format NAME.");
        }
        return matching.get(0);
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
