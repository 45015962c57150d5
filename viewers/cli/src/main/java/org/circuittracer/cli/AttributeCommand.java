package org.circuittracer.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.circuittracer.attribution.export.ExportOptions;
import org.circuittracer.chat.ChatMessage;
import org.circuittracer.chat.ChatPrompt;
import org.circuittracer.attribution.export.GraphJsonExporter;
import org.circuittracer.runtime.ProviderChoice;
import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.Attributor;
import org.circuittracer.spi.attribution.AttributorOptions;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.viewer.ViewerConfig;
import org.circuittracer.viewer.ViewerServer;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code circuit-tracer attribute}: one attribution graph, written for the viewer (and optionally as our graph file). */
@Command(name = "attribute", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compute the attribution graph of a prompt and write DIR/NAME.json (the viewer's graph JSON, "
                + "pruned with --node-threshold/--edge-threshold) and update DIR/graph-metadata.json.",
                "Without --model it runs on the embedded demo model and its per-layer transcoders, and without a prompt "
                + "on the demo's two-hop prompt \"" + AttributeCommand.DEMO_PROMPT_SHOWN + "\"."},
        footer = {"", "Examples:",
                "  circuit-tracer attribute",
                "      the demo model on the Dallas prompt; writes graphs/<slug>.json",
                "  circuit-tracer attribute --server",
                "      the same, then shows it in the web viewer until Ctrl-C",
                "  circuit-tracer attribute --transcoders demo-clt --prompt \"Fact: the capital of the state containing "
                        + "Oakland is\" \\",
                "      --target Sacramento-Austin --slug oakland --graph-file-dir graphs",
                "  circuit-tracer attribute --model models/llama --transcoders transcoders/llama-plt-relu \\",
                "      --prompt-ids 0,113,47,97,94,63 --slug demo --graph-file-dir graphs --timings timings.json",
                "  circuit-tracer attribute --model google/gemma-2-2b --transcoder_set gemma --prompt \"...\" --slug g",
                "      repo ids from the local Hugging Face cache, offline (docs/cli.md); the reference's option names work",
                "Without --server it prints the circuit-tracer serve command that shows the graph."})
final class AttributeCommand implements Runnable {

    static final String DEMO_PROMPT_SHOWN = "Fact: the capital of the state containing Dallas is";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ModelOptions modelOptions = new ModelOptions();

    @CommandLine.Mixin
    PromptOptions promptOptions = new PromptOptions();

    @Option(names = "--target", paramLabel = "TOKEN|A-B",
            description = "What to explain instead of the most likely next tokens (repeatable): a token (e.g. Austin, "
                    + "or #1234 for a token id), or a logit difference A-B of two tokens (the direction of A's minus "
                    + "B's unembedding vector).")
    List<String> targets;

    @Option(names = "--slug", paramLabel = "NAME",
            description = "Graph name (file-safe; default: made from the prompt's words).")
    String slug;

    @CommandLine.Mixin
    GraphJsonOptions graphJson = new GraphJsonOptions();

    @Option(names = {"-o", "--graph-output-path", "--graph_output_path"}, paramLabel = "FILE",
            description = "Also save the unpruned graph in circuit-tracer's own graph file format.")
    Path graphOutputPath;

    @CommandLine.Mixin
    AttributionLimitsOptions limits = new AttributionLimitsOptions();

    @Option(names = "--head-loadings", arity = "0..1", fallbackValue = "3", paramLabel = "TOP_K",
            description = "Also split every kept link over the attention heads that carry it, and store on each link "
                    + "the TOP_K heads per layer by |loading| (3 when no number is given) and the part that bypasses "
                    + "each layer's attention (links' head_loadings and head_bypass; docs/formats/graph-json.md).")
    Integer headLoadings;

    @Option(names = "--qk", arity = "0..1", fallbackValue = "10", paramLabel = "TOP_K",
            description = "Also explain why attention moved the strongest links: for each of the --qk-links strongest "
                    + "links that cross positions, split the attention score of the head that carries most of it over "
                    + "the graph's nodes and store the TOP_K largest pairwise and marginal terms on the link (qk; 10 "
                    + "when no number is given; implies head loadings; docs/attention.md).")
    Integer qk;

    @Option(names = "--qk-links", defaultValue = "10", paramLabel = "N",
            description = "How many links --qk explains (default: ${DEFAULT-VALUE}).")
    int qkLinks;

    @Option(names = "--timings", paramLabel = "FILE", description = "Write the phase timings as JSON.")
    Path timings;

    @Option(names = "--attributor", defaultValue = "exact", paramLabel = "NAME",
            description = "Attributor provider (default: ${DEFAULT-VALUE}).")
    String attributor;

    @Option(names = "--attributor-option", paramLabel = "NAME=VALUE",
            description = "A setting of the attributor, repeatable; each attributor documents its own (exact takes "
                    + "none).")
    Map<String, String> attributorOptions = new LinkedHashMap<>();

    @Option(names = "--server",
            description = "Then show the graph in the web viewer, with the model loaded for new graphs and steering, "
                    + "until Ctrl-C (as circuit-tracer serve does).")
    boolean server;

    @Option(names = "--port", defaultValue = Viewing.DEFAULT_PORT, paramLabel = "N",
            description = "The viewer's port with --server, 0 = any free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--host", defaultValue = Viewing.DEFAULT_HOST, paramLabel = "ADDRESS",
            description = "The viewer's address with --server (default: ${DEFAULT-VALUE}, this machine only).")
    String host;

    @Option(names = {"--features-dir", "--features_dir"}, paramLabel = "DIR",
            description = "Feature files for the viewer (default: the demo's dashboards with the demo's transcoders).")
    Path featuresDir;

    @CommandLine.Mixin
    FrontendOption frontend = new FrontendOption();

    @CommandLine.Mixin
    ProgressOptions output = new ProgressOptions();

    @Override
    public void run() {
        int[] ids = promptOptions.ids(spec);
        validateSettings();
        if (targets != null && targets.isEmpty()) {
            throw usage("--target needs a value.");
        }
        List<ChatMessage> chat = promptOptions.chat();
        ModelOptions.Resolved resolved = modelOptions.resolve(spec);
        String text = ids == null && chat == null ? promptOptions.text(resolved.demo(), spec) : null;
        String name = slug != null ? slug : defaultSlug(chat != null ? ChatPrompts.lastUserText(chat) : text);
        ExportOptions.of(name, List.of()); // the slug must be file-safe
        ProgressListener progress = output.listener(spec);
        Path features = server || featuresDir != null ? Viewing.features(featuresDir, resolved, progress::note) : null;
        Path frontendDir = frontend.checked(); // also names it in the printed serve command
        if (server) {
            Viewing.checkBindable(host, port); // before the graph is computed
        }
        long start = System.nanoTime();
        Map<String, Object> timing = new LinkedHashMap<>();
        try (Viewing.StopSignal stop = server ? new Viewing.StopSignal() : null;
             Registries.Registry registry = Registries.open(modelOptions.pluginDirectory())) {
            // the attributor refuses settings it does not know before the model is loaded
            Attributor attributorImpl = registry.get(ProviderKind.ATTRIBUTOR, attributor).create(
                    new AttributorOptions(attributor, attributorOptions));
            try (LoadedModel loaded = LoadedModel.open(registry, modelOptions, resolved, progress::note)) {
                TransformerModel m = loaded.model;
                timing.put("load_model_s", loaded.modelSeconds);
                timing.put("load_transcoders_s", loaded.dictionarySeconds);
                PromptAttribution pipeline = new PromptAttribution(m, loaded.dictionary, attributorImpl);
                PromptAttribution.Settings settings = settings();
                requireAttentionCapabilities(m); // before the attribution, not after it
                List<Integer> templatePositions = List.of();
                if (chat != null) {
                    ChatPrompt chatPrompt = ChatPrompts.build(chat, resolved.model(), m,
                            promptOptions.chatVariables(spec));
                    ids = chatPrompt.ids().ids();
                    templatePositions = List.copyOf(chatPrompt.templatePositions());
                    chatPrompt.warning().ifPresent(w -> spec.commandLine().getErr().println("warning: " + w));
                }
                PromptAttribution.Request request = new PromptAttribution.Request(text, ids, name, targets, settings,
                        graphJson.directory, graphOutputPath, true,
                        modelOptions.model != null ? List.of("--model", modelOptions.model) : List.of(),
                        templatePositions);
                PromptAttribution.Attributed attributed = pipeline.attribute(request, progress);
                AttributionGraph graph = attributed.graph();
                TokenSequence tokens = attributed.tokens();
                timing.put("attribution_s", attributed.attributionSeconds());
                progress.close();
                PromptAttribution.Result written = pipeline.write(attributed, request,
                        spec.commandLine().getErr()::println);
                if (graphOutputPath != null) {
                    timing.put("save_graph_file_s", written.saveGraphFileSeconds());
                }
                timing.put("export_s", written.exportSeconds());
                GraphJsonExporter.Result result = written.export();
                ExportCommand.printWarnings(spec.commandLine().getErr(), result);
                timing.put("total_s", seconds(System.nanoTime() - start));
                Map<String, Double> phases = new LinkedHashMap<>();
                progress.phaseNanos().forEach((phase, nanos) -> phases.put(phase.name(), seconds(nanos)));
                if (timings != null) {
                    writeTimings(name, graph, tokens, timing, phases);
                }
                var out = spec.commandLine().getOut();
                printWritten(out, graph, written);
                if (server) {
                    ViewerConfig config = ViewerConfig.of(graphJson.directory).withFeaturesDir(features).withHost(host)
                            .withPort(port).withFrontendDir(frontendDir)
                            .withWorkbench(new ServeWorkbench(m, loaded.dictionary, attributorImpl, resolved.model()));
                    try (ViewerServer viewer = Viewing.start(config)) {
                        out.printf("Open %s%n", Viewing.graphUrl(viewer.url(), name));
                        out.flush();
                        progress.note("The viewer runs until Ctrl-C.");
                        stop.await();
                    }
                } else {
                    out.printf("To view it: %s%n  then open %s%n", serveCommand(resolved), port == 0
                            ? "the address it prints with ?slug=" + name
                            : Viewing.graphUrl(Viewing.address(host, port), name));
                    out.flush();
                }
            } catch (OutOfMemoryError e) {
                throw new CircuitTracerException(StandardErrorCode.OUT_OF_RESOURCES, "Out of memory during attribution. "
                        + "Give Java more memory (java -Xmx...) or lower --batch-size / --max-feature-nodes.", e);
            } catch (IOException e) {
                throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot write output: " + e.getMessage()
                        + ". Check the directory and its permissions.", e);
            } finally {
                progress.close();
            }
        }
    }

    private PromptAttribution.Settings settings() {
        return new PromptAttribution.Settings(limits.maxNLogits, limits.desiredLogitProb, limits.maxFeatureNodes,
                limits.batchSize, graphJson.nodeThreshold, graphJson.edgeThreshold, graphJson.strictNodeIds,
                headLoadings == null ? 0 : headLoadings, qk == null ? 0 : qk, qkLinks);
    }

    /** {@code --head-loadings} and {@code --qk} need backend capabilities: refused before the attribution runs. */
    private void requireAttentionCapabilities(TransformerModel m) {
        if (headLoadings != null || qk != null) {
            org.circuittracer.spi.Capability.require("backend", m.backendName(), m.capabilities(),
                    org.circuittracer.spi.model.BackendCapability.HEAD_LOADINGS,
                    headLoadings != null ? "--head-loadings" : "--qk");
        }
        if (qk != null) {
            org.circuittracer.spi.Capability.require("backend", m.backendName(), m.capabilities(),
                    org.circuittracer.spi.model.BackendCapability.QK_ATTRIBUTION, "--qk");
        }
    }

    /** What was written, and the graph's scores. */
    private void printWritten(java.io.PrintWriter out, AttributionGraph graph, PromptAttribution.Result written) {
        GraphJsonExporter.Result result = written.export();
        out.printf("Wrote %s (%d nodes, %d links; %d tokens, %d active features, %d selected, %d logits)%n",
                result.graphFile(), result.nodes(), result.links(), graph.tokens().length(),
                graph.activeFeatures().size(), graph.selected().size(), graph.logits().size());
        out.printf(java.util.Locale.ROOT, "Scores: replacement %.3f, completeness %.3f (of the unpruned graph; "
                + "metadata.graph_scores)%n", result.scores().replacement(), result.scores().completeness());
        out.printf("Updated %s%n", result.indexFile());
        if (written.graphFile() != null) {
            out.printf("Saved graph file %s%n", graphOutputPath);
        }
        if (timings != null) {
            out.printf("Wrote timings %s%n", timings);
        }
        out.flush();
    }

    /** The slug {@code circuit-tracer export} derives from a graph file's name. */
    static String defaultSlugOf(Path graphFile) {
        String file = graphFile.getFileName().toString();
        for (String suffix : List.of(ExportCommand.GRAPH_FILE_SUFFIX, ".safetensors")) {
            if (file.endsWith(suffix) && file.length() > suffix.length()) {
                return file.substring(0, file.length() - suffix.length());
            }
        }
        return file;
    }

    /** The {@code serve} command that shows this graph with the same model, transcoders and features. */
    String serveCommand(ModelOptions.Resolved resolved) {
        List<String> words = new ArrayList<>(List.of("circuit-tracer", "serve"));
        if (!graphJson.directory.equals(GraphJsonOptions.DEFAULT_DIRECTORY)) {
            words.addAll(List.of("--graph-file-dir", graphJson.directory.toString()));
        }
        if (featuresDir != null) {
            words.addAll(List.of("--features-dir", featuresDir.toString()));
        }
        if (modelOptions.model != null) {
            words.addAll(List.of("--model", modelOptions.model));
        }
        if (modelOptions.transcoders != null && !(resolved.demo() && resolved.transcoderLabel()
                .equals(ModelOptions.DEMO_PLT))) {
            words.addAll(List.of("--transcoders", modelOptions.transcoders));
        }
        if (modelOptions.load.backend != null) {
            words.addAll(List.of("--backend", modelOptions.load.backend));
        }
        if (modelOptions.load.dictionaryFormat != null) {
            words.addAll(List.of("--dictionary-format", modelOptions.load.dictionaryFormat));
        }
        if (!modelOptions.load.dtype.equals("float32")) {
            words.addAll(List.of("--dtype", modelOptions.load.dtype));
        }
        if (modelOptions.load.plugins != null) {
            words.addAll(List.of("--plugins", modelOptions.load.plugins.toString()));
        }
        if (!attributor.equals("exact")) {
            words.addAll(List.of("--attributor", attributor));
        }
        attributorOptions.forEach((name, value) -> words.addAll(List.of("--attributor-option", name + "=" + value)));
        if (frontend.directory != null) {
            words.addAll(List.of("--frontend", frontend.directory.toString()));
        }
        if (!host.equals(Viewing.DEFAULT_HOST)) {
            words.addAll(List.of("--host", host));
        }
        if (port != ViewerConfig.DEFAULT_PORT) {
            words.addAll(List.of("--port", Integer.toString(port)));
        }
        return Viewing.shellCommand(words);
    }

    /** A file-safe name from the prompt's words (lowercase ASCII letters and digits), or {@code graph}. */
    static String defaultSlug(String text) {
        if (text == null) {
            return "graph";
        }
        String words = String.join("-", java.util.Arrays.stream(text.toLowerCase(java.util.Locale.ROOT)
                .split("[^a-z0-9]+")).filter(w -> !w.isEmpty()).limit(10).toList());
        if (words.length() > 60) {
            words = words.substring(0, words.lastIndexOf('-', 60) > 0 ? words.lastIndexOf('-', 60) : 60);
        }
        return words.isEmpty() ? "graph" : words;
    }

    private void writeTimings(String name, AttributionGraph graph, TokenSequence tokens, Map<String, Object> timing,
                              Map<String, Double> phases) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("slug", name);
        json.put("tokens", tokens.length());
        json.put("active_features", graph.activeFeatures().size());
        json.put("selected_features", graph.selected().size());
        json.put("logits", graph.logits().size());
        json.put("batch_size", limits.batchSize);
        json.put("phases", phases);
        json.putAll(timing);
        if (timings.toAbsolutePath().getParent() != null) {
            Files.createDirectories(timings.toAbsolutePath().getParent());
        }
        JSON.writeValue(timings.toFile(), json);
    }

    /** Fails before anything is loaded: the checks that otherwise run only after attribution. */
    private void validateSettings() {
        if (slug != null) {
            ExportOptions.of(slug, List.of()); // the slug must be file-safe
        }
        graphJson.check(spec);
        limits.check(spec);
        Viewing.checkPort(port, spec);
        if (qk != null && qk < 1) {
            throw usage("--qk takes the number of terms to list per link (at least 1), got " + qk + ".");
        }
        if (qkLinks < 1) {
            throw usage("--qk-links takes the number of links to explain (at least 1), got " + qkLinks + ".");
        }
        if (headLoadings != null && headLoadings < 1) {
            throw usage("--head-loadings takes the number of heads per layer to keep on each link (at least 1), got "
                    + headLoadings + ".");
        }
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), "Invalid value: " + message);
    }

    /** The format that recognises {@code directory} most surely (the runtime's {@link ProviderChoice}). */
    static DictionaryFormatProvider detectFormat(List<DictionaryFormatProvider> formats, Path directory) {
        return new ProviderChoice<>(ProviderKind.DICTIONARY_FORMAT, "--dictionary-format", Optional.empty())
                .choose(formats, directory).provider();
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
