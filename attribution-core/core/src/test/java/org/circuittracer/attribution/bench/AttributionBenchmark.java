package org.circuittracer.attribution.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.circuittracer.attribution.ForwardingModel;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.exact.ExactAttributor;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.backend.djl.bench.BackendBenchmark;
import org.circuittracer.safetensors.DType;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionPhase;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.model.VjpResult;
import org.circuittracer.spi.model.VjpSeeds;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.common.ModelKind;
import org.circuittracer.transcoders.common.ReferenceConfig;
import org.circuittracer.transcoders.reference.ReferenceFormatWriter;
import org.circuittracer.transcoders.reference.Tensor;
import org.circuittracer.transformer.checkpoint.SyntheticCheckpoint;

/**
 * Attribution throughput (issue 5): seconds per graph by phase, VJP rows per second and the VJP phase's achieved
 * GFLOP/s as a fraction of the machine's matmul throughput, measured in the same run
 * ({@link BackendBenchmark}'s reference matmul). Lives in the test sources because the attribution core's production
 * code may depend on the SPI only; it needs the djl backend and the reference transcoders.
 *
 * <p>Results in {@code docs/benchmarks/attribution.md}; {@code AttributionBenchmarkTest} runs it once, small.
 */
public final class AttributionBenchmark {

    /**
     * @param pairs           tiny fixture pairs (golden prompt 2, 16 tokens)
     * @param synthetic       also the synthetic configuration
     * @param syntheticModel  its model
     * @param syntheticFeatures features per layer of its random per-layer transcoder
     * @param syntheticPrompt its prompt length
     * @param maxFeatureNodes feature rows per graph (0: all)
     * @param batchSize       lanes per VJP
     * @param warmups         untimed graphs per configuration
     * @param iterations      timed graphs per configuration (figures are their means)
     * @param log             progress, or null
     */
    public record Options(List<TinyFixtures.Pair> pairs, boolean synthetic, SyntheticCheckpoint.Spec syntheticModel,
                          int syntheticFeatures, int syntheticPrompt, int maxFeatureNodes, int batchSize, int warmups,
                          int iterations, PrintStream log) {

        public static Options full() {
            return new Options(TinyFixtures.PAIRS, true, new SyntheticCheckpoint.Spec(8, 512, 8, 4, 2048, 160, 2048, 1),
                    8192, 64, 1024, 64, 1, 3, System.err);
        }

        public static Options smoke() {
            return new Options(List.of(TinyFixtures.PAIRS.get(0)), true,
                    new SyntheticCheckpoint.Spec(2, 64, 4, 2, 128, 160, 128, 1), 256, 8, 64, 16, 0, 1, null);
        }
    }

    /** One configuration's figures, means over the timed graphs. */
    public record GraphFigures(String name, ModelConfig config, int promptLength, int activeFeatures, int featureRows,
                               int logitRows, double seconds, Map<AttributionPhase, Double> phaseSeconds,
                               long vjpRows, double vjpSeconds, double vjpFlops, double matmulGflops,
                               long peakHeapBytes, long peakRssKiB) {

        /** Rows (lanes) per second of the backend VJP calls alone. */
        public double vjpRowsPerSecond() {
            return vjpRows / vjpSeconds;
        }

        /** Achieved GFLOP/s inside the VJP calls ({@link BackendBenchmark#vjpFlops}, scaled to each call's bounds). */
        public double vjpGflops() {
            return vjpFlops / vjpSeconds / 1e9;
        }

        public double vjpFraction() {
            return vjpGflops() / matmulGflops;
        }

        /** The phase that took longest. */
        public AttributionPhase dominant() {
            return phaseSeconds.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        }
    }

    /**
     * @param peakHeapBytes heap peak since the last configuration's reset (see {@code resetPeaks})
     * @param peakRssKiB    likewise, the resident-set peak ({@code VmHWM}), or -1
     */
    public record Results(String machine, BackendBenchmark.Matmul matmul, List<GraphFigures> graphs, long peakHeapBytes,
                          long peakRssKiB) {

        public String toMarkdown() {
            StringBuilder s = new StringBuilder();
            s.append("Machine: ").append(machine).append('\n');
            s.append(String.format(Locale.ROOT, "Reference matmul %d³: %.1f GFLOP/s (best). Peak heap and RSS: per"
                    + " configuration, over its timed graphs.%n%n", matmul.size(), matmul.gflops()));
            s.append("| configuration | L | d | T | N_act | rows (feature + logit) | s / graph | precompute | logit rows"
                    + " | feature rows | assemble | dominant | VJP s | VJP rows/s | VJP GFLOP/s | × matmul | peak heap MiB"
                    + " | peak RSS MiB |\n");
            s.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
            for (GraphFigures g : graphs) {
                s.append(String.format(Locale.ROOT, "| %s | %d | %d | %d | %d | %d + %d | %.3f | %.3f | %.3f | %.3f"
                                + " | %.3f | %s | %.3f | %.0f | %.2f | %.3f | %.0f | %.0f |%n", g.name(), g.config().layers(),
                        g.config().modelWidth(), g.promptLength(), g.activeFeatures(), g.featureRows(), g.logitRows(),
                        g.seconds(), phase(g, AttributionPhase.PRECOMPUTE) + phase(g, AttributionPhase.LINEARIZE),
                        phase(g, AttributionPhase.LOGIT_ROWS), phase(g, AttributionPhase.FEATURE_ROWS),
                        phase(g, AttributionPhase.ASSEMBLE), g.dominant(), g.vjpSeconds(), g.vjpRowsPerSecond(),
                        g.vjpGflops(), g.vjpFraction(), g.peakHeapBytes() / 1048576.0, g.peakRssKiB() / 1024.0));
            }
            return s.toString();
        }

        private static double phase(GraphFigures g, AttributionPhase phase) {
            return g.phaseSeconds().getOrDefault(phase, 0.0);
        }
    }

    private AttributionBenchmark() {
    }

    public static Results run(Options options) {
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        log(options, "reference matmul …");
        BackendBenchmark.Options matmulOnly = BackendBenchmark.Options.full(List.of());
        BackendBenchmark.Options bo = new BackendBenchmark.Options(List.of(), false, matmulOnly.syntheticSpec(),
                matmulOnly.syntheticPrompt(), matmulOnly.syntheticLanes(), matmulOnly.smallPrompt(),
                matmulOnly.smallLanes(), matmulOnly.generatedTokens(), options.iterations() > 1 ? 1024 : 128,
                options.iterations() > 1 ? 3 : 0, options.iterations() > 1 ? 10 : 1,
                options.iterations() > 1 ? 1.0 : 0, null);
        BackendBenchmark.Results backend = BackendBenchmark.run(bo);
        double matmulGflops = backend.matmul().gflops();
        List<GraphFigures> graphs = new ArrayList<>();
        for (TinyFixtures.Pair pair : options.pairs()) {
            log(options, "tiny " + pair + " …");
            try (TransformerModel model = TinyFixtures.openModel(pair.model());
                 SparseDictionary dictionary = TinyFixtures.openDictionary(pair.dictionary())) {
                graphs.add(measure(pair.dictionary(), model, dictionary, TinyFixtures.prompt(pair.model(), 2), options,
                        matmulGflops));
            }
        }
        if (options.synthetic()) {
            Path directory = null;
            try {
                directory = Files.createTempDirectory("circuit-tracer-attribution-bench-");
                log(options, "writing the synthetic model and transcoders to " + directory + " …");
                SyntheticCheckpoint.Spec spec = options.syntheticModel();
                Path modelDirectory = SyntheticCheckpoint.write(directory.resolve("model"), spec);
                // the attributor needs a tokenizer: the tiny llama's (vocabulary 160, as the synthetic model's)
                for (String file : List.of("tokenizer.json", "tokenizer_config.json")) {
                    Files.copy(TinyFixtures.modelDirectory("llama").resolve(file), modelDirectory.resolve(file));
                }
                Random random = new Random(3);
                int[] ids = new int[options.syntheticPrompt()];
                for (int i = 1; i < ids.length; i++) {
                    ids[i] = 1 + random.nextInt(spec.vocabulary() - 1);
                }
                // calibrate: halve the encoder scale until at most ~1.5% of the features fire per token and layer
                double encoderScale = 1;
                Path dictionaryDirectory = null;
                for (int attempt = 0; attempt < 12; attempt++) {
                    dictionaryDirectory = writeTranscoders(directory.resolve("plt" + attempt), spec,
                            options.syntheticFeatures(), encoderScale);
                    int nAct;
                    try (TransformerModel model = TinyFixtures.openModel(modelDirectory);
                         SparseDictionary dictionary = TinyFixtures.openDictionary(dictionaryDirectory);
                         NDManager manager = NDManager.newBaseManager()) {
                        nAct = ReplacementModel.of(model, dictionary).activations(manager, new TokenSequence(ids))
                                .active().size();
                    }
                    double fraction = nAct / ((double) spec.layers() * ids.length * options.syntheticFeatures());
                    log(options, String.format(Locale.ROOT, "  encoder scale %.4g: N_act %d (%.2f%% per token and layer)",
                            encoderScale, nAct, 100 * fraction));
                    if (fraction <= 0.015) {
                        break;
                    }
                    encoderScale /= 2;
                }
                try (TransformerModel model = TinyFixtures.openModel(modelDirectory);
                     SparseDictionary dictionary = TinyFixtures.openDictionary(dictionaryDirectory)) {
                    String name = String.format(Locale.ROOT, "synthetic %d×%d, %d features/layer", spec.layers(),
                            spec.hidden(), options.syntheticFeatures());
                    graphs.add(measure(name, model, dictionary, new TokenSequence(ids), options, matmulGflops));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                if (directory != null) {
                    deleteRecursively(directory);
                }
            }
        }
        return new Results(backend.machine(), backend.matmul(), graphs, peakHeap(), peakRssKiB());
    }

    public static void main(String[] args) {
        Options defaults = Options.full();
        int iterations = defaults.iterations();
        boolean synthetic = true;
        for (String arg : args) {
            if (arg.startsWith("--iterations=")) {
                iterations = Integer.parseInt(arg.substring("--iterations=".length()));
            } else if (arg.equals("--no-synthetic")) {
                synthetic = false;
            } else {
                System.err.println("usage: AttributionBenchmark [--iterations=N] [--no-synthetic]");
                System.exit(2);
            }
        }
        Options options = new Options(defaults.pairs(), synthetic, defaults.syntheticModel(),
                defaults.syntheticFeatures(), defaults.syntheticPrompt(), defaults.maxFeatureNodes(),
                defaults.batchSize(), defaults.warmups(), iterations, defaults.log());
        System.out.print(run(options).toMarkdown());
    }

    private static GraphFigures measure(String name, TransformerModel model, SparseDictionary dictionary,
                                        TokenSequence tokens, Options options, double matmulGflops) {
        TimedModel timed = new TimedModel(model);
        ExactAttributor attributor = new ExactAttributor();
        AttributionRequest request = new AttributionRequest(timed, dictionary, tokens,
                AttributionTargets.Salient.defaults(), options.maxFeatureNodes(), options.batchSize(), 4);
        for (int i = 0; i < options.warmups(); i++) {
            attributor.attribute(request, AttributionListener.NONE);
        }
        timed.reset();
        resetPeaks();
        Map<AttributionPhase, Double> phases = new EnumMap<>(AttributionPhase.class);
        AttributionListener listener = new AttributionListener() {
            @Override
            public void phaseFinished(AttributionPhase phase, long nanos) {
                phases.merge(phase, nanos / 1e9 / options.iterations(), Double::sum);
            }
        };
        AttributionGraph graph = null;
        long start = System.nanoTime();
        for (int i = 0; i < options.iterations(); i++) {
            graph = attributor.attribute(request, listener);
        }
        double seconds = (System.nanoTime() - start) / 1e9 / options.iterations();
        int n = options.iterations();
        GraphFigures figures = new GraphFigures(name, model.config(), graph.tokens().length(),
                graph.activeFeatures().size(), graph.selected().size(), graph.logits().size(), seconds, phases,
                timed.rows / n, timed.nanos / 1e9 / n, timed.flops / n, matmulGflops, peakHeap(), peakRssKiB());
        log(options, String.format(Locale.ROOT, "  %.3f s/graph, N_act %d, dominant %s, RSS so far %d KiB", seconds,
                figures.activeFeatures(), figures.dominant(), peakRssKiB()));
        return figures;
    }

    /** Counts and times the backend's VJP calls. */
    private static final class TimedModel extends ForwardingModel {
        long rows;
        long nanos;
        double flops;

        TimedModel(TransformerModel model) {
            super(model);
        }

        void reset() {
            rows = 0;
            nanos = 0;
            flops = 0;
        }

        @Override
        public void close() {
            // the caller closes the model it passed in
        }

        @Override
        public LinearizedModel linearize(NDManager manager, TokenSequence tokens, LinearizationSpec spec) {
            LinearizedModel linear = super.linearize(manager, tokens, spec);
            ModelConfig c = config();
            return new LinearizedModel() {
                @Override
                public TokenSequence tokens() {
                    return linear.tokens();
                }

                @Override
                public LinearizationSpec spec() {
                    return linear.spec();
                }

                @Override
                public Map<HookSite, NDArray> clean() {
                    return linear.clean();
                }

                @Override
                public VjpResult vjp(NDManager m, VjpSeeds seeds) {
                    long t0 = System.nanoTime();
                    VjpResult result = linear.vjp(m, seeds);
                    nanos += System.nanoTime() - t0;
                    rows += seeds.lanes();
                    int layerBound = Math.min(seeds.layerBound(c.layers()), c.layers());
                    flops += BackendBenchmark.vjpFlops(c, seeds.lanes(), seeds.positionBound()) * layerBound
                            / c.layers();
                    return result;
                }

                @Override
                public void close() {
                    linear.close();
                }
            };
        }
    }

    /** A random per-layer ReLU transcoder set (reads {@code hook_resid_mid}, writes {@code hook_mlp_out}). */
    static Path writeTranscoders(Path directory, SyntheticCheckpoint.Spec spec, int features, double encoderScale) {
        Random random = new Random(11);
        int d = spec.hidden();
        List<ReferenceFormatWriter.PerLayerTensors> layers = new ArrayList<>();
        for (int layer = 0; layer < spec.layers(); layer++) {
            layers.add(new ReferenceFormatWriter.PerLayerTensors(gaussian(random, encoderScale / Math.sqrt(d), features, d),
                    bias(random, features), gaussian(random, 1 / Math.sqrt(d), features, d), gaussian(random, 0.1, d),
                    Optional.empty(), Optional.empty()));
        }
        ReferenceFormatWriter.writePerLayer(directory,
                ReferenceConfig.of(ModelKind.TRANSCODER_SET, SiteKind.RESID_MID, SiteKind.MLP_OUT_RAW), layers);
        return directory;
    }

    private static Tensor gaussian(Random random, double scale, long... shape) {
        int n = 1;
        for (long s : shape) {
            n = Math.multiplyExact(n, (int) s);
        }
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        return Tensor.floats(DType.F32, shape, values);
    }

    private static Tensor bias(Random random, int features) {
        float[] values = new float[features];
        for (int i = 0; i < features; i++) {
            values[i] = (float) (random.nextGaussian() * 0.1 - 0.4);
        }
        return Tensor.floats(DType.F32, new long[] {features}, values);
    }

    /**
     * Resets the heap pools' peaks (after a GC) and, on Linux, the process's peak RSS ({@code /proc/self/clear_refs},
     * value 5), so that the next figures cover one configuration's timed graphs only (model and dictionary already open).
     */
    private static void resetPeaks() {
        System.gc();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                pool.resetPeakUsage();
            }
        }
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | RuntimeException e) {
            // not Linux, or not permitted: the RSS peak then stays process-wide
        }
    }

    static long peakHeap() {
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
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

    private static void log(Options options, String line) {
        if (options.log() != null) {
            options.log().println(line);
        }
    }

    private static void deleteRecursively(Path directory) {
        try (Stream<Path> walk = Files.walk(directory)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort
        }
    }
}
