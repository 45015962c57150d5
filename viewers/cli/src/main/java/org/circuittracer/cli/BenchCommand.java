package org.circuittracer.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.circuittracer.attribution.io.AtomicFiles;
import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionPhase;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.attribution.Attributor;
import org.circuittracer.spi.attribution.AttributorOptions;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.Precision;
import org.circuittracer.spi.model.SeedSite;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.model.VjpSeeds;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code circuit-tracer bench}: forward, VJP and attribution throughput of a model through the SPI, each also given as
 * a fraction of the same run's matrix-multiply throughput, which makes figures comparable across machines.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure the machine's float32 matmul throughput, then a model's forward pass, one batch of "
                + "VJPs through its linearised model and whole attribution graphs, through the chosen backend and "
                + "attributor. Each figure is the median of timed runs after warm-up ones; GFLOP/s figures are also "
                + "given as a fraction (x matmul) of the reference matmul measured in the same run.",
                "FLOPs counted: forward 2*T*W + 4*L*H*h*T^2 (W = weights of the per-token matmuls, unembedding "
                + "included); VJP per lane and layer 2*T*d*H*h + 2*H*T^2*h + 2*T*KV*h*d (the attention adjoint's "
                + "matmuls; MLPs are cut in the linearised model).",
                "Without --model it measures the embedded demo model on the Dallas prompt. Run it on an otherwise idle "
                + "machine: other processes on the same cores distort the figures.",
                "--synthetic perf16|perf64|gemma2-2b-shape|tiny|tiny-gemma2 builds a seeded synthetic configuration itself (issue 16; written once "
                + "into --work-dir, default ~/.cache/circuit-tracer/bench/NAME-SEED, and reused): a Llama-style model "
                + "with random weights (perf16/perf64: 8 layers, hidden 256, 8 heads / 4 KV heads, head dim 32, MLP "
                + "688, vocabulary 512) and per-layer ReLU transcoders in the reference format (1,024 features per "
                + "layer, encoder biases calibrated so that 10%% of the features fire per position), attributed on a "
                + "fixed prompt (16 or 64 tokens, BOS first) with max_feature_nodes 7500 and batch 256. It reports "
                + "the time per phase, the FLOP floor of the run, the rows' achieved GFLOP/s against the floor, "
                + "x matmul, time / floor time, peak heap and peak RSS (VmHWM).",
                "--synthetic gemma2-2b-shape: a Gemma-2-2B-shaped model (26 layers, hidden 2304, 8 heads / 4 KV heads "
                + "of 256, MLP 9216, sandwich norms, soft-caps, sliding window, vocabulary 32768, bf16 weights in "
                + "memory-mapped shards, ~4.2 GB) with per-layer JumpReLU transcoders as GemmaScope's (16,384 features "
                + "per layer, bf16, ~3.9 GB, thresholds calibrated so that ~64 features fire per position and layer), "
                + "a 32-token prompt, max_feature_nodes 1024, batch 128, one forward/VJP measurement. Writing it takes "
                + "a minute or two and ~8 GB of disk. tiny-gemma2 is its seconds-long smoke version.",
                "FLOP floor = rows * (L*(2*T*d*H*h + 2*H*T^2*h + 2*T*KV*h*d) + 2*d*(N_act + (L+1)*T)), rows = "
                + "feature rows + logit rows: per row, every layer's attention adjoint over the full T x T square (no "
                + "causal truncation) and one d-long dot product per source column (active features, error nodes, "
                + "tokens). Floor time = floor / matmul GFLOP/s; achieved GFLOP/s = floor / (logit + feature rows "
                + "time)."},
        footer = {"", "Examples:",
                "  circuit-tracer bench",
                "  circuit-tracer bench --model models/llama --transcoders transcoders/llama-plt --tokens 64 \\",
                "      --lanes 64 --iterations 10 --json bench.json",
                "  circuit-tracer bench --synthetic perf16 --json perf16.json",
                "  circuit-tracer bench --synthetic perf64 --graphs 3 --work-dir /tmp/perf"})
final class BenchCommand implements Runnable {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ModelOptions modelOptions = new ModelOptions();

    @CommandLine.Mixin
    PromptOptions promptOptions = new PromptOptions();

    @Option(names = "--tokens", paramLabel = "T",
            description = "Measure on T random tokens instead of the prompt (a special token first).")
    Integer randomTokens;

    @Option(names = "--lanes", defaultValue = "32", paramLabel = "B",
            description = "Seeds in the VJP batch (default: ${DEFAULT-VALUE}).")
    int lanes;

    @Option(names = "--matmul-size", defaultValue = "1024", paramLabel = "N",
            description = "Size of the reference N x N matmul (default: ${DEFAULT-VALUE}).")
    int matmulSize;

    @Option(names = "--warmups", defaultValue = "2", paramLabel = "N",
            description = "Untimed runs before each measurement (default: ${DEFAULT-VALUE}).")
    int warmups;

    @Option(names = "--iterations", defaultValue = "5", paramLabel = "N",
            description = "Timed runs per measurement (default: ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = {"--max-feature-nodes", "--max_feature_nodes"}, defaultValue = "7500", paramLabel = "N",
            description = "Feature nodes per graph, 0 = all (default: ${DEFAULT-VALUE}).")
    int maxFeatureNodes;

    @Option(names = {"--batch-size", "--batch_size"}, defaultValue = "256", paramLabel = "N",
            description = "Rows per backward batch of the attributor (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--attributor", defaultValue = "exact", paramLabel = "NAME",
            description = "Attributor provider (default: ${DEFAULT-VALUE}).")
    String attributor;

    @Option(names = "--attributor-option", paramLabel = "NAME=VALUE",
            description = "A setting of the attributor, repeatable; each attributor documents its own (exact takes "
                    + "none).")
    Map<String, String> attributorOptions = new LinkedHashMap<>();

    @Option(names = "--synthetic", paramLabel = "perf16|perf64|gemma2-2b-shape|tiny|tiny-gemma2",
            description = "Build and measure a synthetic configuration (see above) instead of --model/--transcoders.")
    String synthetic;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "N",
            description = "Seed of the synthetic model, transcoders and prompt (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--work-dir", paramLabel = "DIR",
            description = "Where the synthetic files are written once and reused (default: "
                    + "~/.cache/circuit-tracer/bench/NAME-SEED, or under $XDG_CACHE_HOME).")
    Path workDir;

    @Option(names = "--graphs", paramLabel = "N",
            description = "Timed attribution graphs (default: --iterations; with --synthetic 1, after no warm-up).")
    Integer graphs;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures as JSON.")
    Path json;

    @CommandLine.Mixin
    ProgressOptions output = new ProgressOptions();

    private ModelOptions.Resolved resolvedOptions;
    private SyntheticBench.Written written;

    @Override
    public void run() {
        SyntheticBench.Spec syntheticSpec = synthetic != null ? syntheticSpec() : null;
        if (syntheticSpec == null) {
            promptOptions.ids(spec);
        }
        int graphWarmups = synthetic != null ? 0 : warmups;
        int graphIterations = graphs != null ? graphs : synthetic != null ? 1 : iterations;
        checkCounts(graphIterations);
        long processStart = System.nanoTime();
        ProgressListener progress = new ProgressListener(spec.commandLine().getErr(), true);
        try (Registries.Registry registry = Registries.open(modelOptions.pluginDirectory())) {
            // the attributor refuses settings it does not know before the model is loaded
            Attributor attributorImpl = registry.get(ProviderKind.ATTRIBUTOR, attributor).create(
                    new AttributorOptions(attributor, attributorOptions));
            try (LoadedModel loaded = LoadedModel.open(registry, modelOptions, resolve(registry, syntheticSpec),
                    this::note);
                 NDManager manager = NDManager.newBaseManager()) {
                ModelOptions.Resolved resolved = resolvedOptions;
                TransformerModel model = loaded.model;
                ModelConfig c = model.config();
                TokenSequence tokens = syntheticSpec != null
                        ? new TokenSequence(SyntheticBench.tokens(syntheticSpec, seed, syntheticSpec.promptLength()))
                        : randomTokens != null ? random(c, randomTokens) : promptOptions.tokens(model, resolved, spec);
                int t = tokens.length();
                double matmulGflops = measureMatmul(manager);
                double forward = measureForward(manager, model, tokens);
                double vjp = measureVjp(manager, loaded, tokens);
                Graphs measured = measureGraphs(attributorImpl, loaded, tokens, graphWarmups, graphIterations);
                Map<String, Object> figures = figures(model, resolved, t, matmulGflops, forward, vjp, measured);
                if (syntheticSpec != null) {
                    figures.put("synthetic", syntheticFigures(syntheticSpec, loaded, t, matmulGflops, measured,
                            graphIterations, processStart));
                }
                print(spec.commandLine().getOut(), figures);
                if (json != null) {
                    writeJson(figures);
                }
            }
        } finally {
            progress.close();
        }
    }

    /** The figures every run reports, in the order the JSON lists them. */
    private Map<String, Object> figures(TransformerModel model, ModelOptions.Resolved resolved, int t,
                                        double matmulGflops, double forward, double vjp, Graphs measured) {
        ModelConfig c = model.config();
        double forwardGflops = forwardFlops(c, t) / forward / 1e9;
        double vjpGflops = vjpFlops(c, lanes, t) / vjp / 1e9;
        double rowGflops = measured.rows() * vjpFlops(c, 1, t) / measured.rowSeconds() / 1e9;

        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("machine", machine());
        figures.put("model", c.modelName());
        figures.put("backend", model.backendName());
        figures.put("transcoders", resolved.transcoderLabel());
        figures.put("tokens", t);
        figures.put("matmul_size", matmulSize);
        figures.put("matmul_gflops", matmulGflops);
        figures.put("forward_s", forward);
        figures.put("forward_tokens_per_s", t / forward);
        figures.put("forward_gflops", forwardGflops);
        figures.put("forward_x_matmul", forwardGflops / matmulGflops);
        figures.put("vjp_lanes", lanes);
        figures.put("vjp_s", vjp);
        figures.put("vjp_rows_per_s", lanes / vjp);
        figures.put("vjp_gflops", vjpGflops);
        figures.put("vjp_x_matmul", vjpGflops / matmulGflops);
        figures.put("attribution_s", measured.graphSeconds());
        figures.put("attribution_rows", measured.rows());
        figures.put("attribution_rows_per_s", measured.rows() / measured.rowSeconds());
        figures.put("attribution_row_gflops", rowGflops);
        figures.put("attribution_x_matmul", rowGflops / matmulGflops);
        return figures;
    }

    /** The --synthetic configuration, whose settings replace the defaults of the options not given. */
    private SyntheticBench.Spec syntheticSpec() {
        SyntheticBench.Spec syntheticSpec = SyntheticBench.CONFIGURATIONS.get(synthetic);
        if (syntheticSpec == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value for --synthetic: '"
                    + synthetic + "' (one of " + String.join(", ", SyntheticBench.NAMES) + ").");
        }
        if (modelOptions.model != null || modelOptions.transcoders != null || randomTokens != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--synthetic builds its own model, "
                    + "transcoders and prompt: leave out --model, --transcoders and --tokens.");
        }
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        if (!parsed.hasMatchedOption("--max-feature-nodes")) {
            maxFeatureNodes = syntheticSpec.maxFeatureNodes();
        }
        if (!parsed.hasMatchedOption("--batch-size")) {
            batchSize = syntheticSpec.batchSize();
        }
        if (!parsed.hasMatchedOption("--warmups")) {
            warmups = syntheticSpec.warmups();
        }
        if (!parsed.hasMatchedOption("--iterations")) {
            iterations = syntheticSpec.iterations();
        }
        return syntheticSpec;
    }

    /** Refuses counts below their minimum before anything is loaded. */
    private void checkCounts(int graphIterations) {
        for (Object[] check : new Object[][] {{"--lanes", lanes, 1}, {"--matmul-size", matmulSize, 1},
                {"--warmups", warmups, 0}, {"--iterations", iterations, 1}, {"--batch-size", batchSize, 1},
                {"--max-feature-nodes", maxFeatureNodes, 0},
                {"--graphs", graphIterations, 1}, {"--tokens", randomTokens == null ? 2 : randomTokens, 2}}) {
            if ((int) check[1] < (int) check[2]) {
                throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value: " + check[0]
                        + " must be >= " + check[2] + ", got " + check[1] + ".");
            }
        }
    }

    /** GFLOP/s of the best reference matmul. */
    private double measureMatmul(NDManager manager) {
        note("Reference matmul " + matmulSize + "x" + matmulSize + " ...");
        double[] matmul = time(() -> {
            try (NDManager scope = manager.newSubManager()) {
                NDArray a = scope.randomNormal(new Shape(matmulSize, matmulSize));
                a.matMul(a).toFloatArray();
            }
        });
        return 2.0 * matmulSize * matmulSize * matmulSize / matmul[0] / 1e9;
    }

    /** Median seconds of a forward pass. */
    private double measureForward(NDManager manager, TransformerModel model, TokenSequence tokens) {
        note("Forward pass over " + tokens.length() + " tokens ...");
        return median(time(() -> {
            try (NDManager scope = manager.newSubManager()) {
                model.forward(scope, tokens, List.of()).logits().toFloatArray();
            }
        }));
    }

    /** Median seconds of one VJP batch of {@link #lanes} random seeds at the last position's unembedding. */
    private double measureVjp(NDManager manager, LoadedModel loaded, TokenSequence tokens) {
        note("VJP batch of " + lanes + " seeds ...");
        int t = tokens.length();
        try (NDManager state = manager.newSubManager();
             LinearizedModel linear = loaded.model.linearize(state, tokens, new LinearizationSpec(
                     loaded.dictionary.readSite(), loaded.dictionary.writeSite(), Map.of()))) {
            List<SeedSite> sites = Collections.nCopies(lanes, new SeedSite.Unembedding(t - 1));
            VjpSeeds seeds = new VjpSeeds(sites, state.randomNormal(new Shape(lanes,
                    loaded.model.config().modelWidth())));
            return median(time(() -> {
                try (NDManager scope = manager.newSubManager()) {
                    linear.vjp(scope, seeds);
                }
            }));
        }
    }

    /**
     * Timed attribution graphs: the last graph, the phase times of each timed one, the median graph seconds, the rows
     * of a graph and the median seconds of its logit and feature rows.
     */
    private record Graphs(AttributionGraph last, List<Map<AttributionPhase, Long>> phases, double graphSeconds,
                          long rows, double rowSeconds) {
    }

    private Graphs measureGraphs(Attributor attributorImpl, LoadedModel loaded, TokenSequence tokens,
                                 int graphWarmups, int graphIterations) {
        note("Attribution graphs ...");
        AttributionGraph[] last = new AttributionGraph[1];
        List<Map<AttributionPhase, Long>> phases = new ArrayList<>();
        double graph = median(time(graphWarmups, graphIterations, () -> {
            ProgressListener listener = new ProgressListener(spec.commandLine().getErr(), true);
            last[0] = attributorImpl.attribute(new AttributionRequest(loaded.model, loaded.dictionary, tokens,
                    AttributionTargets.Salient.defaults(), maxFeatureNodes, batchSize, 4), listener);
            phases.add(listener.phaseNanos());
        }));
        phases.subList(0, graphWarmups).clear();
        long rows = last[0].selected().size() + last[0].logits().size();
        double rowSeconds = phases.stream().mapToDouble(p -> (p.getOrDefault(AttributionPhase.LOGIT_ROWS, 0L)
                + p.getOrDefault(AttributionPhase.FEATURE_ROWS, 0L)) / 1e9).sorted().toArray()[phases.size() / 2];
        return new Graphs(last[0], phases, graph, rows, rowSeconds);
    }

    /** The --synthetic figures: the configuration, the last graph's shape, phase times and the FLOP floors. */
    private Map<String, Object> syntheticFigures(SyntheticBench.Spec syntheticSpec, LoadedModel loaded, int t,
                                                 double matmulGflops, Graphs measured, int graphIterations,
                                                 long processStart) {
        ModelConfig c = loaded.model.config();
        AttributionGraph last = measured.last();
        long rows = measured.rows();
        double rowSeconds = measured.rowSeconds();
        double graph = measured.graphSeconds();
        long nAct = last.activeFeatures().size();
        double floorPerRow = SyntheticBench.floorFlopsPerRow(c, t, nAct);
        double floor = rows * floorPerRow;
        double floorSeconds = floor / (matmulGflops * 1e9);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("name", syntheticSpec.name());
        s.put("description", SyntheticBench.describe(syntheticSpec, maxFeatureNodes, batchSize));
        s.put("seed", seed);
        s.put("directory", written.directory().toString());
        s.put("files_reused", written.reused());
        s.put("files_s", written.seconds());
        s.put("max_feature_nodes", maxFeatureNodes);
        s.put("batch_size", batchSize);
        s.put("graphs", graphIterations);
        s.put("active_features", nAct);
        s.put("active_fraction", nAct / ((double) c.layers() * t * loaded.dictionary.features(0)));
        s.put("active_per_position_and_layer", nAct / ((double) c.layers() * t));
        s.put("feature_rows", last.selected().size());
        s.put("logit_rows", last.logits().size());
        s.put("edges", last.adjacency().nonZeros());
        s.put("edges_in_memory", last.adjacency().inMemory());
        // the pruning every viewer graph goes through (default thresholds), on the last graph
        long pruneStart = System.nanoTime();
        org.circuittracer.attribution.prune.PruneResult pruned =
                org.circuittracer.attribution.prune.GraphPruning.prune(last);
        s.put("prune_s", (System.nanoTime() - pruneStart) / 1e9);
        s.put("kept_nodes", pruned.keptNodes());
        s.put("kept_edges", pruned.keptEdges());
        Map<String, Double> phaseSeconds = new LinkedHashMap<>();
        for (AttributionPhase phase : AttributionPhase.values()) {
            double[] each = measured.phases().stream().mapToDouble(p -> p.getOrDefault(phase, 0L) / 1e9).sorted()
                    .toArray();
            phaseSeconds.put(phase.name().toLowerCase(Locale.ROOT), median(each));
        }
        s.put("phase_s", phaseSeconds);
        s.put("graph_s", graph);
        s.put("rows_s", rowSeconds);
        s.put("floor_flops_per_row", floorPerRow);
        s.put("floor_attention_flops_per_row", vjpFlops(c, 1, t));
        s.put("floor_flops", floor);
        s.put("floor_s", floorSeconds);
        double truncated = SyntheticBench.truncatedFloorFlops(c, t, nAct, last.selected(), last.logits().size());
        s.put("floor_truncated_flops", truncated);
        s.put("floor_truncated_s", truncated / (matmulGflops * 1e9));
        s.put("rows_x_truncated_floor_time", rowSeconds / (truncated / (matmulGflops * 1e9)));
        s.put("rows_floor_gflops", floor / rowSeconds / 1e9);
        s.put("rows_floor_x_matmul", floor / rowSeconds / 1e9 / matmulGflops);
        s.put("rows_x_floor_time", rowSeconds / floorSeconds);
        s.put("graph_x_floor_time", graph / floorSeconds);
        s.put("process_s", (System.nanoTime() - processStart) / 1e9);
        s.put("peak_heap_mib", peakHeapBytes() / 1048576.0);
        s.put("peak_rss_mib", peakRssKiB() / 1024.0);
        return s;
    }

    /** Writes the figures to --json atomically (its directory created if missing). */
    private void writeJson(Map<String, Object> figures) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(figures);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Cannot serialise the figures: "
                    + e.getMessage(), e);
        }
        AtomicFiles.write(json.toAbsolutePath(), bytes);
    }

    /** Resolves the model options; with --synthetic, first writes (or finds) the configuration's files. */
    private ModelOptions.Resolved resolve(Registries.Registry registry, SyntheticBench.Spec syntheticSpec) {
        if (syntheticSpec != null) {
            Path directory = workDir != null ? workDir
                    : SyntheticBench.defaultCacheRoot().resolve(syntheticSpec.name() + "-" + seed);
            written = SyntheticBench.ensure(syntheticSpec, seed, directory.toAbsolutePath(), modelDirectory -> {
                BackendProvider backend = BackendChoice.choose(registry, modelOptions.load.backend, modelDirectory).provider();
                return backend.create(new ModelSource(modelDirectory, Precision.FLOAT32, "auto", Map.of()));
            }, this::note);
            modelOptions.model = written.model().toString();
            modelOptions.transcoders = written.transcoders().toString();
            // bf16 encoders widened to float32 and kept would double the transcoders' memory: read them per call
            modelOptions.load.lazyEncoder = syntheticSpec.family() == SyntheticBench.Family.GEMMA2;
        }
        resolvedOptions = modelOptions.resolve(spec);
        return resolvedOptions;
    }

    private static void print(PrintWriter out, Map<String, Object> f) {
        out.printf(Locale.ROOT, "Machine: %s%n", f.get("machine"));
        out.printf(Locale.ROOT, "Model: %s (%s), transcoders %s, %d tokens%n", f.get("model"), f.get("backend"),
                f.get("transcoders"), (int) f.get("tokens"));
        out.printf(Locale.ROOT, "%-34s %12s %12s %10s%n", "measurement", "median", "GFLOP/s", "x matmul");
        out.printf(Locale.ROOT, "%-34s %12s %12.2f %10.3f%n", "matmul " + f.get("matmul_size") + "^3 (best)", "",
                (double) f.get("matmul_gflops"), 1.0);
        out.printf(Locale.ROOT, "%-34s %9.2f ms %12.2f %10.3f%n", String.format(Locale.ROOT, "forward (%.0f tokens/s)",
                (double) f.get("forward_tokens_per_s")), (double) f.get("forward_s") * 1e3,
                (double) f.get("forward_gflops"), (double) f.get("forward_x_matmul"));
        out.printf(Locale.ROOT, "%-34s %9.2f ms %12.2f %10.3f%n", String.format(Locale.ROOT, "VJP, %d lanes (%.0f rows/s)",
                (int) f.get("vjp_lanes"), (double) f.get("vjp_rows_per_s")), (double) f.get("vjp_s") * 1e3,
                (double) f.get("vjp_gflops"), (double) f.get("vjp_x_matmul"));
        out.printf(Locale.ROOT, "%-34s %9.2f ms %12.2f %10.3f%n", String.format(Locale.ROOT,
                        "attribution, %d rows (%.0f rows/s)", (long) f.get("attribution_rows"),
                        (double) f.get("attribution_rows_per_s")), (double) f.get("attribution_s") * 1e3,
                (double) f.get("attribution_row_gflops"), (double) f.get("attribution_x_matmul"));
        if (f.get("synthetic") instanceof Map<?, ?> s) {
            printSynthetic(out, s);
        }
        out.flush();
    }

    private static void printSynthetic(PrintWriter out, Map<?, ?> s) {
        out.printf(Locale.ROOT, "%nSynthetic configuration %s%n", s.get("description"));
        out.printf(Locale.ROOT, "  seed %d, files %s (%s, %.1f s)%n", (long) s.get("seed"), s.get("directory"),
                (boolean) s.get("files_reused") ? "reused" : "written", (double) s.get("files_s"));
        out.printf(Locale.ROOT, "  active features %d (%.1f%% per position and layer), rows %d feature + %d logit, "
                        + "median of %d graph(s)%n", (long) s.get("active_features"),
                100 * (double) s.get("active_fraction"), (int) s.get("feature_rows"), (int) s.get("logit_rows"),
                (int) s.get("graphs"));
        out.printf(Locale.ROOT, "  edges %d (%s); pruned (0.8, 0.98) to %d nodes and %d edges in %.3f s%n",
                (int) s.get("edges"), (boolean) s.get("edges_in_memory") ? "in memory" : "on disk",
                (int) s.get("kept_nodes"), (int) s.get("kept_edges"), (double) s.get("prune_s"));
        for (Map.Entry<?, ?> phase : ((Map<?, ?>) s.get("phase_s")).entrySet()) {
            out.printf(Locale.ROOT, "  phase %-22s %10.3f s%n", phase.getKey(), (double) phase.getValue());
        }
        out.printf(Locale.ROOT, "  %-28s %10.3f s%n", "graph total", (double) s.get("graph_s"));
        out.printf(Locale.ROOT, "  %-28s %10.3f s  (%s, this process so far)%n", "process", (double) s.get("process_s"),
                "files, loading, matmul, forward, VJP and graphs");
        out.printf(Locale.ROOT, "  FLOP floor %.4g FLOP (%.4g per row, of which attention adjoint %.4g)%n",
                (double) s.get("floor_flops"), (double) s.get("floor_flops_per_row"),
                (double) s.get("floor_attention_flops_per_row"));
        out.printf(Locale.ROOT, "  floor time %.3f s at the run's matmul; rows achieved %.2f GFLOP/s = %.4f x matmul; "
                        + "rows time / floor time %.1f, graph time / floor time %.1f%n", (double) s.get("floor_s"),
                (double) s.get("rows_floor_gflops"), (double) s.get("rows_floor_x_matmul"),
                (double) s.get("rows_x_floor_time"), (double) s.get("graph_x_floor_time"));
        out.printf(Locale.ROOT, "  truncated floor (layers <= a row's layer, positions <= its position) %.4g FLOP, %.3f s; "
                        + "rows time / truncated floor time %.1f%n", (double) s.get("floor_truncated_flops"),
                (double) s.get("floor_truncated_s"), (double) s.get("rows_x_truncated_floor_time"));
        out.printf(Locale.ROOT, "  peak heap %.0f MiB, peak RSS (VmHWM) %.0f MiB%n", (double) s.get("peak_heap_mib"),
                (double) s.get("peak_rss_mib"));
    }

    /** Sum of the heap pools' peak usage. */
    static long peakHeapBytes() {
        long peak = 0;
        for (java.lang.management.MemoryPoolMXBean pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == java.lang.management.MemoryType.HEAP && pool.getPeakUsage() != null) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        return peak;
    }

    /** Peak resident set ({@code VmHWM}) in KiB, or -1 where the OS does not report it. */
    static long peakRssKiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.substring(6).replace("kB", "").trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }

    /** FLOPs of one forward pass over {@code t} tokens: the per-token matmuls and attention's two T x T products. */
    static double forwardFlops(ModelConfig c, int t) {
        double d = c.modelWidth();
        double attention = d * c.heads() * c.headWidth() * 2 + d * c.keyValueHeads() * c.headWidth() * 2;
        int mlpMatrices = c.architecture().startsWith("GPT2") ? 2 : 3;
        double weights = c.layers() * (attention + mlpMatrices * d * c.mlpWidth()) + d * c.vocabularySize();
        return 2.0 * t * weights + 4.0 * c.layers() * c.heads() * c.headWidth() * (double) t * t;
    }

    /** FLOPs of one VJP batch: per lane and layer, the attention adjoint's three matmuls. */
    static double vjpFlops(ModelConfig c, int lanes, int t) {
        double p = t;
        double perLayer = 2 * p * c.modelWidth() * c.heads() * c.headWidth() + 2 * c.heads() * p * p * c.headWidth()
                + 2 * p * c.keyValueHeads() * c.headWidth() * c.modelWidth();
        return (double) lanes * c.layers() * perLayer;
    }

    private static TokenSequence random(ModelConfig c, int length) {
        Random random = new Random(17);
        int[] ids = new int[Math.min(length, c.maxPositions())];
        for (int i = 1; i < ids.length; i++) {
            ids[i] = random.nextInt(c.vocabularySize());
        }
        return new TokenSequence(ids);
    }

    /** Seconds of each timed run, ascending. */
    private double[] time(Runnable work) {
        return time(warmups, iterations, work);
    }

    private static double[] time(int warmups, int iterations, Runnable work) {
        for (int i = 0; i < warmups; i++) {
            work.run();
        }
        double[] seconds = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long start = System.nanoTime();
            work.run();
            seconds[i] = (System.nanoTime() - start) / 1e9;
        }
        Arrays.sort(seconds);
        return seconds;
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static String machine() {
        String engine;
        try {
            Engine e = Engine.getInstance();
            engine = e.getEngineName() + " " + e.getVersion();
        } catch (RuntimeException e) {
            engine = "unknown engine";
        }
        return Runtime.getRuntime().availableProcessors() + " logical CPUs, " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch") + ", Java " + System.getProperty("java.version") + ", " + engine;
    }

    private void note(String message) {
        if (!output.quiet) {
            spec.commandLine().getErr().println(message);
            spec.commandLine().getErr().flush();
        }
    }
}
