package org.circuittracer.backend.djl.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.circuittracer.backend.djl.DjlBackendProvider;
import org.circuittracer.spi.model.GenerationRequest;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.Sampling;
import org.circuittracer.spi.model.SeedSite;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.model.VjpSeeds;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transformer.checkpoint.SyntheticCheckpoint;
import org.circuittracer.transformer.linear.FrozenAttention;
import org.circuittracer.transformer.linear.FrozenNorm;

/**
 * Throughput of the djl backend measured against the machine's own matrix-multiply throughput, in one run:
 *
 * <ol>
 *   <li><b>matmul</b>: a float32 {@code n×n @ n×n} product through DJL, best of several: the machine's ceiling;</li>
 *   <li><b>forward</b>: a whole forward pass over a {@code T}-token prompt: tokens/s and achieved GFLOP/s with
 *       {@link #forwardFlops};</li>
 *   <li><b>VJP</b>: one batch of {@code B} logit-direction seeds at the last {@code min(B, T)} positions through the
 *       linearised model: lanes·positions/s, rows (lanes)/s and achieved GFLOP/s with {@link #vjpFlops}; plus where
 *       its time goes (the attention adjoints alone, and their three matmuls alone at the same shapes);</li>
 *   <li><b>generation</b>: greedy tokens/s with the key/value cache.</li>
 * </ol>
 *
 * Each figure is the median of timed iterations after warm-up ones, and is also given as a fraction of the matmul
 * figure, which makes results comparable across machines. Models: any Hugging Face directories the backend opens,
 * plus a synthetic Llama-style model ({@link SyntheticCheckpoint.Spec#benchmark()}) written to a temporary directory.
 *
 * <p>Run {@link #main} (see docs/benchmarks/djl-backend.md) or call {@link #run} (e.g. from a {@code bench} command).
 */
public final class BackendBenchmark {

    private BackendBenchmark() {
    }

    /**
     * What to measure.
     *
     * @param models              model directories (e.g. the tiny fixtures), measured with {@code smallPrompt} and
     *                            {@code smallLanes}
     * @param synthetic           also measure the synthetic model described by {@code syntheticSpec}
     * @param syntheticSpec       its dimensions
     * @param syntheticPrompt     its prompt length
     * @param syntheticLanes      its VJP batch
     * @param smallPrompt         prompt length for {@code models} (capped at their maximum positions minus
     *                            {@code generatedTokens})
     * @param smallLanes          VJP batch for {@code models}
     * @param generatedTokens     tokens per timed generation
     * @param matmulSize          {@code n} of the reference product
     * @param warmups             untimed iterations before each measurement (at least)
     * @param iterations          timed iterations (at least; the median is reported, the matmul reports the best too)
     * @param seconds             warm-up and timing each go on until this much time has passed too (at most 1000
     *                            iterations): short operations get many samples and the JIT compiler settles
     * @param log                 progress lines, or null for none
     */
    public record Options(List<Path> models, boolean synthetic, SyntheticCheckpoint.Spec syntheticSpec,
                          int syntheticPrompt, int syntheticLanes, int smallPrompt, int smallLanes, int generatedTokens,
                          int matmulSize, int warmups, int iterations, double seconds, PrintStream log) {

        public Options {
            models = List.copyOf(models);
            Objects.requireNonNull(syntheticSpec, "syntheticSpec");
            if (iterations < 1 || warmups < 0 || matmulSize < 1 || smallPrompt < 1 || smallLanes < 1
                    || syntheticPrompt < 1 || syntheticLanes < 1 || generatedTokens < 1 || !(seconds >= 0)) {
                throw new IllegalArgumentException("bad benchmark options: " + this);
            }
        }

        /** The full benchmark: {@code models} at 32 tokens / 32 lanes and the synthetic model at 64 / 64. */
        public static Options full(List<Path> models) {
            return new Options(models, true, SyntheticCheckpoint.Spec.benchmark(), 64, 64, 32, 32, 16, 1024, 3, 10, 1.0,
                    System.err);
        }

        /** One iteration, no warm-up, small shapes and a small synthetic model: checks that everything runs. */
        public static Options smoke(List<Path> models) {
            return new Options(models, true, new SyntheticCheckpoint.Spec(2, 64, 4, 2, 128, 256, 128, 1), 8, 4, 8, 4,
                    2, 128, 0, 1, 0, null);
        }
    }

    /**
     * The reference product.
     *
     * @param size          {@code n}
     * @param bestSeconds   fastest iteration
     * @param medianSeconds median iteration
     */
    public record Matmul(int size, double bestSeconds, double medianSeconds) {

        public double flops() {
            return 2.0 * size * size * size;
        }

        /** GFLOP/s of the best iteration: the ceiling the other figures are compared with. */
        public double gflops() {
            return flops() / bestSeconds / 1e9;
        }
    }

    /**
     * One model's figures (seconds are medians).
     *
     * @param model                  name (directory name)
     * @param config                 its dimensions
     * @param parameters             weights in the matmuls (embedding rows are lookups and are not counted)
     * @param promptLength           {@code T}
     * @param lanes                  VJP batch {@code B}
     * @param forwardSeconds         one forward pass over {@code T} tokens
     * @param forwardFlops           its FLOPs ({@link #forwardFlops})
     * @param vjpSeconds             one VJP batch
     * @param vjpFlops               its FLOPs ({@link #vjpFlops})
     * @param attentionAdjointSeconds the {@code L} attention adjoints of one batch, run alone
     * @param normSeconds            the batch's norm adjoints and residual adds, run alone
     * @param attentionMatmulSeconds  the attention adjoints' three matmuls per layer alone, contiguous inputs, same
     *                               shapes
     * @param generatedTokens        tokens per generation
     * @param generateSeconds        one greedy generation of {@code generatedTokens} after the prompt
     * @param matmulGflops           the reference matmul's GFLOP/s
     */
    public record ModelFigures(String model, ModelConfig config, long parameters, int promptLength, int lanes,
                               double forwardSeconds, double forwardFlops, double vjpSeconds, double vjpFlops,
                               double attentionAdjointSeconds, double normSeconds, double attentionMatmulSeconds,
                               int generatedTokens,
                               double generateSeconds, double matmulGflops) {

        public double forwardTokensPerSecond() {
            return promptLength / forwardSeconds;
        }

        public double forwardGflops() {
            return forwardFlops / forwardSeconds / 1e9;
        }

        public double forwardFraction() {
            return forwardGflops() / matmulGflops;
        }

        /** Lanes × positions swept per second. */
        public double vjpLanePositionsPerSecond() {
            return (double) lanes * promptLength / vjpSeconds;
        }

        /** Lanes (attribution rows) per second. */
        public double vjpRowsPerSecond() {
            return lanes / vjpSeconds;
        }

        public double vjpGflops() {
            return vjpFlops / vjpSeconds / 1e9;
        }

        public double vjpFraction() {
            return vjpGflops() / matmulGflops;
        }

        /** GFLOP/s of the attention adjoints' matmuls run alone (all of the VJP's counted FLOPs). */
        public double attentionMatmulGflops() {
            return vjpFlops / attentionMatmulSeconds / 1e9;
        }

        public double generationTokensPerSecond() {
            return generatedTokens / generateSeconds;
        }
    }

    /**
     * Everything one run measured.
     *
     * @param machine          processors, OS, Java and engine
     * @param matmul           the reference product
     * @param opLatencySeconds the median time of one tiny DJL operation ({@code [1] + [1]}): the per-op floor
     * @param models           per model
     */
    public record Results(String machine, Matmul matmul, double opLatencySeconds, List<ModelFigures> models) {

        public Results {
            models = List.copyOf(models);
        }

        /** The figures as Markdown tables. */
        public String toMarkdown() {
            StringBuilder out = new StringBuilder();
            out.append("Machine: ").append(machine).append("\n\n");
            out.append(String.format(Locale.ROOT, "Reference matmul %d×%d @ %d×%d float32: best %.2f ms, median %.2f ms"
                            + " → **%.1f GFLOP/s**. Per-op floor ([1] + [1]): %.1f µs.%n%n", matmul.size(),
                    matmul.size(), matmul.size(), matmul.size(), matmul.bestSeconds() * 1e3,
                    matmul.medianSeconds() * 1e3, matmul.gflops(), opLatencySeconds * 1e6));
            out.append("| model | matmul weights | T | forward ms | tokens/s | GFLOP/s | × matmul | B | VJP ms "
                    + "| lanes·pos/s | rows/s | GFLOP/s | × matmul | generate tokens/s |\n");
            out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for (ModelFigures m : models) {
                out.append(String.format(Locale.ROOT, "| %s | %s | %d | %.2f | %.0f | %.2f | %.3f | %d | %.2f | %.0f "
                                + "| %.0f | %.2f | %.3f | %.0f |%n", m.model(), millions(m.parameters()),
                        m.promptLength(), m.forwardSeconds() * 1e3, m.forwardTokensPerSecond(), m.forwardGflops(),
                        m.forwardFraction(), m.lanes(), m.vjpSeconds() * 1e3, m.vjpLanePositionsPerSecond(),
                        m.vjpRowsPerSecond(), m.vjpGflops(), m.vjpFraction(), m.generationTokensPerSecond()));
            }
            out.append("\nWhere the VJP's time goes: its parts run alone on the same shapes (attention adjoints; "
                    + "their three matmuls per layer on contiguous inputs; norm adjoints and residual adds); "
                    + "\"other\" = VJP − attention adjoints − norms (seed injection, copies, bookkeeping):\n\n");
            out.append("| model | VJP ms | attention adjoints ms | share | of which matmuls alone ms | share "
                    + "| matmuls alone GFLOP/s | × matmul | norms + adds ms | share | other ms | share |\n");
            out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for (ModelFigures m : models) {
                double vjp = m.vjpSeconds();
                double other = vjp - m.attentionAdjointSeconds() - m.normSeconds();
                out.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.0f%% | %.2f | %.0f%% | %.1f | %.3f "
                                + "| %.2f | %.0f%% | %.2f | %.0f%% |%n", m.model(), vjp * 1e3,
                        m.attentionAdjointSeconds() * 1e3, 100 * m.attentionAdjointSeconds() / vjp,
                        m.attentionMatmulSeconds() * 1e3, 100 * m.attentionMatmulSeconds() / vjp,
                        m.attentionMatmulGflops(), m.attentionMatmulGflops() / matmul.gflops(),
                        m.normSeconds() * 1e3, 100 * m.normSeconds() / vjp, other * 1e3, 100 * other / vjp));
            }
            return out.toString();
        }

        private static String millions(long parameters) {
            return String.format(Locale.ROOT, "%.2f M", parameters / 1e6);
        }
    }

    /**
     * FLOPs of one forward pass over {@code T} tokens, as the backend computes it: {@code 2·T·W} for the weight
     * matmuls ({@code W} = {@link #matmulWeights}, the unembedding included, for every position) plus
     * {@code 4·L·H·h·T²} for attention ({@code QKᵀ} and {@code P·V} over the full {@code T×T} square, which is computed
     * and then masked). Norms, activations, rotary embedding, soft-caps and softmax are not counted.
     */
    public static double forwardFlops(ModelConfig c, int tokens) {
        return 2.0 * tokens * matmulWeights(c) + 4.0 * c.layers() * c.heads() * c.headWidth() * (double) tokens * tokens;
    }

    /**
     * FLOPs of one VJP batch through all {@code L} layers with the MLPs cut: per layer and lane, the attention
     * adjoint's three matmuls: {@code 2·P·d·H·h} (output projection), {@code 2·H·P²·h} (frozen pattern) and
     * {@code 2·P·KV·h·d} (value projection). Norm adjoints and residual adds are elementwise and not counted.
     */
    public static double vjpFlops(ModelConfig c, int lanes, int positions) {
        double p = positions;
        double perLayer = 2 * p * c.modelWidth() * c.heads() * c.headWidth() + 2 * c.heads() * p * p * c.headWidth()
                + 2 * p * c.keyValueHeads() * c.headWidth() * c.modelWidth();
        return (double) lanes * c.layers() * perLayer;
    }

    /** Weights in the per-token matmuls: attention and MLP projections of every layer and the unembedding. */
    public static long matmulWeights(ModelConfig c) {
        long d = c.modelWidth();
        long h = c.headWidth();
        long attention = d * c.heads() * h * 2 + d * c.keyValueHeads() * h * 2;
        int mlpMatrices = c.architecture().startsWith("GPT2") ? 2 : 3;
        return c.layers() * (attention + mlpMatrices * d * c.mlpWidth()) + d * c.vocabularySize();
    }

    /** Runs the benchmark. */
    public static Results run(Options options) {
        if (System.getenv("DJL_OFFLINE") == null && System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true"); // natives come from jars: never download
        }
        String loadAtStart = loadAverage();
        Path syntheticDirectory = null;
        try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            log(options, "reference matmul " + options.matmulSize() + "³ …");
            Matmul matmul = matmul(manager, options);
            double opLatency = opLatency(manager, options);
            List<ModelFigures> figures = new ArrayList<>();
            for (Path directory : options.models()) {
                figures.add(measure(manager, directory, options, options.smallPrompt(), options.smallLanes(), matmul));
            }
            if (options.synthetic()) {
                syntheticDirectory = Files.createTempDirectory("circuit-tracer-bench-");
                log(options, "writing the synthetic model to " + syntheticDirectory + " …");
                Path model = SyntheticCheckpoint.write(syntheticDirectory.resolve("synthetic-llama"),
                        options.syntheticSpec());
                figures.add(measure(manager, model, options, options.syntheticPrompt(), options.syntheticLanes(),
                        matmul));
            }
            return new Results(machine() + "; load average (1 min) at start " + loadAtStart + ", at end "
                    + loadAverage(), matmul, opLatency, figures);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (syntheticDirectory != null) {
                deleteRecursively(syntheticDirectory);
            }
        }
    }

    /**
     * Runs the full benchmark on the given model directories (default: the four tiny fixtures under
     * {@code $CIRCUIT_TRACER_FIXTURES} or {@code ../shared/fixtures}) and prints Markdown tables.
     *
     * <p>Arguments: model directories; {@code --no-synthetic} to skip the synthetic model; {@code --iterations=N};
     * {@code --warmups=N}.
     */
    public static void main(String[] args) {
        List<Path> models = new ArrayList<>();
        Options defaults = Options.full(List.of());
        boolean synthetic = true;
        int iterations = defaults.iterations();
        int warmups = defaults.warmups();
        for (String arg : args) {
            if (arg.equals("--no-synthetic")) {
                synthetic = false;
            } else if (arg.startsWith("--iterations=")) {
                iterations = Integer.parseInt(arg.substring("--iterations=".length()));
            } else if (arg.startsWith("--warmups=")) {
                warmups = Integer.parseInt(arg.substring("--warmups=".length()));
            } else if (arg.startsWith("--")) {
                System.err.println("unknown option " + arg
                        + "; usage: BackendBenchmark [model directory …] [--no-synthetic] [--iterations=N] "
                        + "[--warmups=N]");
                System.exit(2);
                return;
            } else {
                models.add(Path.of(arg));
            }
        }
        if (models.isEmpty()) {
            models.addAll(defaultFixtures());
        }
        Options options = new Options(models, synthetic, defaults.syntheticSpec(), defaults.syntheticPrompt(),
                defaults.syntheticLanes(), defaults.smallPrompt(), defaults.smallLanes(), defaults.generatedTokens(),
                defaults.matmulSize(), warmups, iterations, defaults.seconds(), System.err);
        System.out.print(run(options).toMarkdown());
    }

    // ---------------------------------------------------------------- measurements

    private static Matmul matmul(NDManager manager, Options options) {
        int n = options.matmulSize();
        try (NDManager scope = manager.newSubManager()) {
            NDArray a = scope.randomNormal(new Shape(n, n));
            NDArray b = scope.randomNormal(new Shape(n, n));
            double[] seconds = time(options, () -> a.matMul(b).close());
            return new Matmul(n, seconds[0], median(seconds));
        }
    }

    private static double opLatency(NDManager manager, Options options) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray a = scope.ones(new Shape(1));
            NDArray b = scope.ones(new Shape(1));
            int batch = 200;
            double[] seconds = time(options, () -> {
                for (int i = 0; i < batch; i++) {
                    a.add(b).close();
                }
            });
            return median(seconds) / batch;
        }
    }

    private static ModelFigures measure(NDManager manager, Path directory, Options options, int promptLength,
                                        int lanes, Matmul matmul) {
        String name = directory.getFileName().toString();
        try (TransformerModel model = new DjlBackendProvider().create(ModelSource.of(directory));
             NDManager scope = manager.newSubManager()) {
            ModelConfig config = model.config();
            int length = Math.min(promptLength, config.maxPositions() - options.generatedTokens());
            Random random = new Random(17);
            TokenSequence prompt = new TokenSequence(IntStream.range(0, length)
                    .map(i -> random.nextInt(config.vocabularySize())).toArray());
            log(options, name + ": forward …");
            double forward = median(time(options, () -> {
                try (NDManager pass = scope.newSubManager()) {
                    model.forward(pass, prompt, List.of());
                }
            }));
            log(options, name + ": VJP …");
            double vjp;
            try (NDManager state = scope.newSubManager();
                 LinearizedModel linear = model.linearize(state, prompt,
                         new LinearizationSpec(SiteKind.MLP_IN, SiteKind.MLP_OUT, Map.of()))) {
                List<SeedSite> sites = IntStream.range(0, lanes)
                        .mapToObj(i -> (SeedSite) new SeedSite.Unembedding(length - 1 - i % length)).toList();
                VjpSeeds seeds = new VjpSeeds(sites,
                        state.randomNormal(new Shape(lanes, config.modelWidth())));
                vjp = median(time(options, () -> {
                    try (NDManager pass = scope.newSubManager()) {
                        linear.vjp(pass, seeds);
                    }
                }));
            }
            double[] breakdown = vjpBreakdown(scope, config, lanes, length, options);
            log(options, name + ": generation …");
            GenerationRequest request = new GenerationRequest(prompt, options.generatedTokens(), Sampling.greedy(),
                    Set.of(), List.of());
            double generate = median(time(options, () -> {
                try (NDManager pass = scope.newSubManager()) {
                    model.generate(pass, request);
                }
            }));
            return new ModelFigures(name, config, matmulWeights(config), length, lanes, forward,
                    forwardFlops(config, length), vjp, vjpFlops(config, lanes, length), breakdown[0], breakdown[1],
                    breakdown[2], options.generatedTokens(), generate, matmul.gflops());
        }
    }

    /**
     * The parts of one VJP batch, each run alone on random state of the model's shapes, built as the sweep builds it
     * (the frozen pattern is a transposed view of the recorded {@code [H, q, k]} pattern): the {@code L} attention
     * adjoints ({@link FrozenAttention#adjoint}); the norm adjoints and residual adds ({@link FrozenNorm#adjoint}:
     * {@code ln1}, Gemma's {@code ln1_post}, the final norm); and the attention adjoints' three matmuls per layer on
     * contiguous inputs.
     *
     * @return median seconds: {attention adjoints, norm adjoints and adds, matmuls alone}
     */
    private static double[] vjpBreakdown(NDManager manager, ModelConfig c, int lanes, int positions,
                                         Options options) {
        try (NDManager scope = manager.newSubManager()) {
            int d = c.modelWidth();
            int h = c.headWidth();
            int heads = c.heads();
            int kv = c.keyValueHeads();
            NDArray recorded = scope.randomUniform(0, 1, new Shape(heads, positions, positions));
            FrozenAttention attention = new FrozenAttention(recorded.transpose(0, 2, 1),
                    scope.randomNormal(new Shape((long) kv * h, d)), scope.randomNormal(new Shape(d, (long) heads * h)),
                    heads, kv, h);
            NDArray gradient = scope.randomNormal(new Shape(lanes, positions, d));
            double adjoints = median(time(options, () -> {
                try (NDManager pass = scope.newSubManager()) {
                    pass.tempAttachAll(gradient);
                    for (int layer = 0; layer < c.layers(); layer++) {
                        attention.adjoint(gradient, positions);
                    }
                }
            }));
            boolean layerNorm = c.architecture().startsWith("GPT2");
            boolean postNorm = c.architecture().startsWith("Gemma");
            FrozenNorm norm = new FrozenNorm(scope.randomNormal(new Shape(d)), layerNorm,
                    scope.randomUniform(0.5f, 2f, new Shape(positions, 1)));
            double norms = median(time(options, () -> {
                try (NDManager pass = scope.newSubManager()) {
                    pass.tempAttachAll(gradient);
                    NDArray g = norm.adjoint(gradient, positions);
                    for (int layer = 0; layer < c.layers(); layer++) {
                        NDArray mid = postNorm ? norm.adjoint(g, positions) : g;
                        g = g.add(norm.adjoint(mid, positions));
                    }
                }
            }));
            NDArray rows = scope.randomNormal(new Shape((long) lanes * positions, d));
            NDArray output = scope.randomNormal(new Shape(d, (long) heads * h));
            NDArray pattern = scope.randomUniform(0, 1, new Shape(1, heads, positions, positions));
            NDArray perHead = scope.randomNormal(new Shape(lanes, heads, positions, h));
            NDArray values = scope.randomNormal(new Shape((long) lanes * positions, (long) kv * h));
            NDArray value = scope.randomNormal(new Shape((long) kv * h, d));
            double matmuls = median(time(options, () -> {
                for (int layer = 0; layer < c.layers(); layer++) {
                    rows.matMul(output).close();
                    pattern.matMul(perHead).close();
                    values.matMul(value).close();
                }
            }));
            return new double[] {adjoints, norms, matmuls};
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Seconds of each timed iteration, ascending. */
    private static double[] time(Options options, Runnable work) {
        long budget = (long) (options.seconds() * 1e9);
        long start = System.nanoTime();
        for (int i = 0; i < options.warmups() || (System.nanoTime() - start < budget && i < 1000); i++) {
            work.run();
        }
        List<Double> seconds = new ArrayList<>();
        start = System.nanoTime();
        while (seconds.size() < options.iterations() || (System.nanoTime() - start < budget && seconds.size() < 1000)) {
            long begin = System.nanoTime();
            work.run();
            seconds.add((System.nanoTime() - begin) / 1e9);
        }
        return seconds.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static String machine() {
        Engine engine = Engine.getEngine("PyTorch");
        return Runtime.getRuntime().availableProcessors() + " logical CPUs, " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch") + ", Java " + System.getProperty("java.version") + ", "
                + engine.getEngineName() + " " + engine.getVersion() + " (DJL " + Engine.getDjlVersion() + ")";
    }

    /** The tiny fixtures: {@code $CIRCUIT_TRACER_FIXTURES}, else {@code shared/fixtures} in the nearest ancestor. */
    /**
     * The 1-minute load average where the OS reports one ({@code /proc/loadavg}), else "unknown". Above about 2 on a
     * 2-core machine something else competes with the benchmark: PyTorch's OpenMP threads then wait for each other
     * and small operations slow down by 10× or more, so such figures are not comparable.
     */
    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static List<Path> defaultFixtures() {
        String configured = System.getenv("CIRCUIT_TRACER_FIXTURES");
        Path root = configured != null ? Path.of(configured) : null;
        for (Path dir = Path.of("").toAbsolutePath(); root == null && dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("shared/fixtures/tiny-models"))) {
                root = dir.resolve("shared/fixtures");
            }
        }
        if (root == null) {
            return List.of();
        }
        Path tiny = root.resolve("tiny-models");
        return Stream.of("gpt2", "llama", "gemma2", "qwen3").map(tiny::resolve).filter(Files::isDirectory).toList();
    }

    private static void log(Options options, String line) {
        if (options.log() != null) {
            options.log().println(line);
        }
    }

    private static void deleteRecursively(Path directory) {
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory: leave what could not be deleted
        }
    }
}
