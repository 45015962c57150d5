package org.circuittracer.backend.onnx.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.circuittracer.backend.djl.DjlBackendProvider;
import org.circuittracer.backend.onnx.OnnxBackendProvider;
import org.circuittracer.onnx.export.OnnxExporter;
import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.spi.model.GenerationRequest;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.Sampling;
import org.circuittracer.spi.model.SeedSite;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.model.VjpSeeds;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transformer.checkpoint.SyntheticCheckpoint;

/**
 * Throughput of the onnx backend against the djl backend on the same weights, in one run: every model (Hugging Face
 * directories, plus a synthetic Llama-style model written to a temporary directory) is exported to ONNX and opened
 * with both backends, which then run the same work:
 *
 * <ol>
 *   <li><b>forward</b>: a forward pass over a {@code T}-token prompt without hooks (tokens/s);</li>
 *   <li><b>forward + captures</b>: the same with the read and write sites of every layer captured (what dictionary
 *       encoding needs; on ONNX a rewritten graph);</li>
 *   <li><b>attribution</b>: the backend's share of an attribution, linearising the prompt (the clean forward
 *       recording patterns, scales and sites) and one VJP batch of {@code B} seeds (rows/s, linearisation
 *       included);</li>
 *   <li><b>generation</b>: greedy tokens/s with the key/value cache.</li>
 * </ol>
 *
 * Each figure is the median of timed iterations after warm-up ones. Run {@link #main} (docs/benchmarks/onnx-backend.md)
 * or call {@link #run}.
 */
public final class OnnxBackendBenchmark {

    private OnnxBackendBenchmark() {
    }

    /**
     * What to measure.
     *
     * @param models          Hugging Face model directories of the djl backend's architectures
     * @param synthetic       the synthetic model to add, or null for none
     * @param prompt          prompt length {@code T} (capped below each model's maximum positions)
     * @param lanes           VJP batch {@code B}
     * @param generatedTokens tokens per timed generation
     * @param warmups         untimed iterations
     * @param iterations      timed iterations (the median is reported)
     * @param threads         ONNX Runtime intra-op threads (0: its default)
     * @param log             progress lines, or null
     */
    public record Options(List<Path> models, SyntheticCheckpoint.Spec synthetic, int prompt, int lanes,
                          int generatedTokens, int warmups, int iterations, int threads, PrintStream log) {
        public Options {
            models = List.copyOf(models);
            if (prompt < 2 || lanes < 1 || generatedTokens < 1 || warmups < 0 || iterations < 1 || threads < 0) {
                throw new IllegalArgumentException("bad benchmark options: " + this);
            }
        }

        /** The full benchmark: the synthetic model at 64 tokens, 64 lanes. */
        public static Options full(List<Path> models) {
            return new Options(models, SyntheticCheckpoint.Spec.benchmark(), 64, 64, 16, 3, 10, 0, System.err);
        }

        /** One iteration on small shapes: checks that everything runs. */
        public static Options smoke(List<Path> models) {
            return new Options(models, new SyntheticCheckpoint.Spec(2, 64, 4, 2, 128, 256, 128, 1), 8, 4, 2, 0, 1, 1,
                    null);
        }
    }

    /**
     * One backend's figures on one model (median seconds).
     *
     * @param backend          provider name
     * @param forwardSeconds   plain forward pass
     * @param capturedSeconds  forward pass capturing the read and write sites of every layer
     * @param linearizeSeconds linearising the prompt
     * @param vjpSeconds       one VJP batch
     * @param generateSeconds  one greedy generation
     */
    public record Figures(String backend, double forwardSeconds, double capturedSeconds, double linearizeSeconds,
                          double vjpSeconds, double generateSeconds) {
    }

    /**
     * Both backends on one model.
     *
     * @param model  its name
     * @param prompt {@code T}
     * @param lanes  {@code B}
     * @param tokens generated tokens per generation
     * @param onnx   the onnx backend's figures
     * @param djl    the djl backend's figures
     */
    public record Comparison(String model, int prompt, int lanes, int tokens, Figures onnx, Figures djl) {
    }

    /** Measures every model of {@code options}. */
    public static List<Comparison> run(Options options) {
        Path temp;
        try {
            temp = Files.createTempDirectory("onnx-benchmark");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            List<Path> models = new ArrayList<>(options.models());
            if (options.synthetic() != null) {
                models.add(SyntheticCheckpoint.write(temp.resolve("synthetic-llama"), options.synthetic()));
            }
            List<Comparison> results = new ArrayList<>();
            for (Path source : models) {
                String name = source.toAbsolutePath().normalize().getFileName().toString();
                log(options, "exporting " + name);
                Path exported = temp.resolve("onnx-" + results.size()).resolve(name);
                OnnxExporter.export(source, exported, OnnxExporter.Options.defaults(), manager);
                Map<String, String> onnxOptions = options.threads() > 0
                        ? Map.of("threads", Integer.toString(options.threads())) : Map.of();
                try (TransformerModel onnx = open(new OnnxBackendProvider(), exported, onnxOptions);
                     TransformerModel djl = open(new DjlBackendProvider(), source, Map.of())) {
                    int prompt = Math.min(options.prompt(), onnx.config().maxPositions() - options.generatedTokens());
                    TokenSequence tokens = prompt(onnx.config().vocabularySize(), prompt);
                    Figures a = measure(onnx, tokens, options, manager);
                    Figures b = measure(djl, tokens, options, manager);
                    results.add(new Comparison(name, prompt, options.lanes(), options.generatedTokens(), a, b));
                }
            }
            return results;
        } finally {
            delete(temp);
        }
    }

    private static TransformerModel open(BackendProvider provider, Path directory, Map<String, String> options) {
        return provider.create(new ModelSource(directory, org.circuittracer.spi.model.Precision.FLOAT32, "auto",
                options));
    }

    private static Figures measure(TransformerModel model, TokenSequence tokens, Options options, NDManager manager) {
        log(options, "measuring " + model.backendName() + " on " + model.config().modelName());
        int layers = model.config().layers();
        List<Hook> captures = new ArrayList<>();
        for (int layer = 0; layer < layers; layer++) {
            captures.add(new Hook.Capture(HookSite.of(SiteKind.MLP_IN, layer)));
            captures.add(new Hook.Capture(HookSite.of(SiteKind.MLP_OUT, layer)));
        }
        LinearizationSpec spec = new LinearizationSpec(SiteKind.MLP_IN, SiteKind.MLP_OUT, Map.of());
        double forward = median(options, () -> {
            try (NDManager scope = manager.newSubManager()) {
                model.forward(scope, tokens, List.of());
            }
        });
        double captured = median(options, () -> {
            try (NDManager scope = manager.newSubManager()) {
                model.forward(scope, tokens, captures);
            }
        });
        double linearize = median(options, () -> {
            try (NDManager scope = manager.newSubManager();
                 LinearizedModel linear = model.linearize(scope, tokens, spec)) {
                Objects.requireNonNull(linear.clean());
            }
        });
        double vjp;
        try (NDManager scope = manager.newSubManager();
             LinearizedModel linear = model.linearize(scope, tokens, spec)) {
            VjpSeeds seeds = seeds(scope, model, tokens.length(), options.lanes());
            vjp = median(options, () -> {
                try (NDManager inner = scope.newSubManager()) {
                    linear.vjp(inner, seeds);
                }
            });
        }
        GenerationRequest request = new GenerationRequest(tokens, options.generatedTokens(), Sampling.greedy(),
                Set.of(), List.of());
        double generate = median(options, () -> {
            try (NDManager scope = manager.newSubManager()) {
                model.generate(scope, request);
            }
        });
        return new Figures(model.backendName(), forward, captured, linearize, vjp, generate);
    }

    /** Logit-direction seeds at the last {@code min(B, T)} positions. */
    private static VjpSeeds seeds(NDManager scope, TransformerModel model, int length, int lanes) {
        List<SeedSite> sites = new ArrayList<>(lanes);
        for (int i = 0; i < lanes; i++) {
            sites.add(new SeedSite.Unembedding(length - 1 - (i % Math.min(lanes, length))));
        }
        NDArray vectors = scope.randomNormal(new Shape(lanes, model.config().modelWidth()));
        return new VjpSeeds(sites, vectors);
    }

    private static TokenSequence prompt(int vocabulary, int length) {
        Random random = new Random(5);
        return new TokenSequence(random.ints(length, 0, vocabulary).toArray());
    }

    private static double median(Options options, Runnable work) {
        for (int i = 0; i < options.warmups(); i++) {
            work.run();
        }
        double[] seconds = new double[options.iterations()];
        for (int i = 0; i < seconds.length; i++) {
            long start = System.nanoTime();
            work.run();
            seconds[i] = (System.nanoTime() - start) / 1e9;
        }
        Arrays.sort(seconds);
        return seconds[seconds.length / 2];
    }

    /** The results as a Markdown table: each figure for both backends and the onnx/djl speed ratio. */
    public static String toMarkdown(List<Comparison> results) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "Machine: %d processors, %s %s, Java %s%n%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("os.name"),
                System.getProperty("os.arch"), System.getProperty("java.version")));
        out.append("| model | T | B | measure | onnx | djl | onnx speed / djl |\n");
        out.append("|---|---|---|---|---|---|---|\n");
        for (Comparison c : results) {
            row(out, c, "forward (tokens/s)", c.prompt() / c.onnx().forwardSeconds(),
                    c.prompt() / c.djl().forwardSeconds());
            row(out, c, "forward + captures (tokens/s)", c.prompt() / c.onnx().capturedSeconds(),
                    c.prompt() / c.djl().capturedSeconds());
            row(out, c, "linearise (prompts/s)", 1 / c.onnx().linearizeSeconds(), 1 / c.djl().linearizeSeconds());
            row(out, c, "VJP batch (rows/s)", c.lanes() / c.onnx().vjpSeconds(), c.lanes() / c.djl().vjpSeconds());
            row(out, c, "attribution: linearise + 1 batch (rows/s)",
                    c.lanes() / (c.onnx().linearizeSeconds() + c.onnx().vjpSeconds()),
                    c.lanes() / (c.djl().linearizeSeconds() + c.djl().vjpSeconds()));
            row(out, c, "generation (tokens/s)", c.tokens() / c.onnx().generateSeconds(),
                    c.tokens() / c.djl().generateSeconds());
        }
        return out.toString();
    }

    private static void row(StringBuilder out, Comparison c, String measure, double onnx, double djl) {
        out.append(String.format(Locale.ROOT, "| %s | %d | %d | %s | %.1f | %.1f | %.2f× |%n", c.model(), c.prompt(),
                c.lanes(), measure, onnx, djl, onnx / djl));
    }

    /**
     * Runs the full benchmark and prints the table. Arguments: Hugging Face model directories to measure besides the
     * synthetic model; {@code --smoke} for one quick iteration on small shapes.
     */
    public static void main(String[] args) {
        boolean smoke = Arrays.asList(args).contains("--smoke");
        List<Path> models = Stream.of(args).filter(a -> !a.startsWith("--")).map(Path::of).toList();
        Options options = smoke ? Options.smoke(models) : Options.full(models);
        System.out.println(toMarkdown(run(options)));
    }

    private static void log(Options options, String line) {
        if (options.log() != null) {
            options.log().println(line);
        }
    }

    private static void delete(Path directory) {
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory: leave what cannot be removed
        }
    }
}
