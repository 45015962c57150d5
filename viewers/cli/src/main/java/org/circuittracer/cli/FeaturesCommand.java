package org.circuittracer.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;

import org.circuittracer.cli.batch.DashboardEngine;
import org.circuittracer.cli.batch.DashboardOutcome;
import org.circuittracer.cli.batch.DashboardRequest;
import org.circuittracer.dashboards.CollectedDashboards;
import org.circuittracer.dashboards.Corpus;
import org.circuittracer.dashboards.DashboardOptions;
import org.circuittracer.dashboards.FeatureDashboards;
import org.circuittracer.dashboards.files.DashboardLayout;
import org.circuittracer.dashboards.files.DashboardWriter;
import org.circuittracer.hub.HubCache;
import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.Precision;
import org.circuittracer.spi.model.TransformerModel;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code circuit-tracer features}: feature dashboards of a transcoder set over a corpus (docs/dashboards.md). */
@Command(name = "features", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compute feature dashboards over a corpus for every feature of a transcoder set: top-activating "
                + "contexts with per-token activations, examples from quantile bands, activation percentiles, "
                + "histogram and density, and the top and bottom output tokens. Writes them to DIR in the viewer's "
                + "packed layout (index.json.gz + layer_<L>.bin) or as one <feature id>.json per feature, plus "
                + "dashboards.json.",
                "The corpus is a text file (one document a line) or a .jsonl file ({\"text\": ...} or "
                + "{\"tokens\": [ids]} a line), or a directory of them (read in name order); long documents are "
                + "split into chunks of --max-sequence-length.",
                "With --master the corpus is partitioned and computed on Apache Spark (the Spark add-on, "
                + "circuit-tracer-spark; docs/distributed.md), also from Parquet (a text column); the files are the "
                + "same as without it."},
        footer = {"", "Examples:",
                "  circuit-tracer features --model models/llama --transcoders transcoders/llama-plt \\",
                "      --corpus corpus.txt --output-dir transcoders/llama-plt/features",
                "  circuit-tracer features --model models/llama --transcoders transcoders/llama-clt \\",
                "      --corpus corpus.jsonl --output-dir features --layout json --top-k 10 --max-sequence-length 64",
                "  circuit-tracer features -m models/llama -t transcoders/llama-plt --corpus corpus.parquet \\",
                "      --output-dir features --master 'local[*]'      (with the Spark add-on)",
                "Point the viewer's features directory at DIR (packed), or serve DIR's <id>.json files (json)."})
final class FeaturesCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    // Required here, unlike ModelOptions' (dashboards of the demo's transcoders are of no use), so declared here;
    // how the model and transcoders are opened is the LoadOptions every model command shares.
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR|REPO_ID", order = 1,
            description = "Model directory in Hugging Face layout (config.json, *.safetensors, tokenizer.json), or an "
                    + "ONNX export of one (model.onnx), or a Hugging Face repo id ORG/NAME[@REVISION] read from the "
                    + "local Hugging Face cache (nothing is downloaded). Required.")
    String modelName;

    @Option(names = {"-t", "--transcoders", "--transcoder-set", "--transcoder_set"}, required = true,
            paramLabel = "DIR|REPO_ID|PRESET", order = 2,
            description = "Transcoder (dictionary) directory, a Hugging Face repo id from the local cache, or the "
                    + "reference's presets gemma or llama. Required.")
    String transcoderName;

    @CommandLine.Mixin
    LoadOptions load = new LoadOptions();

    /** The directories {@link #modelName} and {@link #transcoderName} name. */
    private Path model;
    private Path transcoders;

    @Option(names = "--corpus", required = true, paramLabel = "FILE|DIR",
            description = "Corpus: a text file (one document a line) or .jsonl/.ndjson (one JSON document a line), "
                    + "or a directory of them (name order); with --master also Parquet (.parquet or a directory of "
                    + "them, a text column).")
    Path corpus;

    @Option(names = "--corpus-format", defaultValue = "auto", paramLabel = "auto|text|jsonl|parquet",
            description = "How to read --corpus (default: ${DEFAULT-VALUE}, from the file names; parquet needs "
                    + "--master).")
    String corpusFormat;

    @Option(names = "--master", paramLabel = "URL",
            description = "Compute on Apache Spark (the Spark add-on): local[*] (in this process), local[N], "
                    + "spark://HOST:PORT, yarn, k8s://... (cluster masters need the model, transcoders and corpus at "
                    + "the same path on every worker). Without it: this process, one pass.")
    String master;

    @Option(names = "--partitions", paramLabel = "N",
            description = "With --master: cut the corpus into N partitions (Spark tasks), in corpus order (default: "
                    + "about as many as Spark runs tasks at once; Parquet: its own splits). The files do not depend "
                    + "on it.")
    Integer partitions;

    @Option(names = "--output-dir", required = true, paramLabel = "DIR",
            description = "Directory for the dashboards (created if missing; must be empty or hold earlier dashboards).")
    Path outputDir;

    @Option(names = "--layout", defaultValue = "packed", paramLabel = "packed|json",
            description = "packed: index.json.gz + layer_<L>.bin; json: one <feature id>.json per feature "
                    + "(default: ${DEFAULT-VALUE}).")
    String layout;

    @Option(names = "--top-k", defaultValue = "20", paramLabel = "N",
            description = "Top-activating contexts per feature, one per corpus sequence (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--context-before", defaultValue = "24", paramLabel = "N",
            description = "Tokens shown before the peak token (default: ${DEFAULT-VALUE}).")
    int contextBefore;

    @Option(names = "--context-after", defaultValue = "8", paramLabel = "N",
            description = "Tokens shown after the peak token (default: ${DEFAULT-VALUE}).")
    int contextAfter;

    @Option(names = "--max-sequence-length", defaultValue = "128", paramLabel = "N",
            description = "Longest sequence given to the model, its special token included (default: ${DEFAULT-VALUE}).")
    int maxSequenceLength;

    @Option(names = {"--batch-size", "--batch_size"}, defaultValue = "16", paramLabel = "N",
            description = "Sequences per batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--quantile-bands", defaultValue = "4", paramLabel = "N",
            description = "Example groups from equal percentile bands, 0 for none (default: ${DEFAULT-VALUE}).")
    int quantileBands;

    @Option(names = "--examples-per-band", defaultValue = "4", paramLabel = "N",
            description = "Examples in each band group (default: ${DEFAULT-VALUE}).")
    int examplesPerBand;

    @Option(names = "--output-tokens", defaultValue = "10", paramLabel = "N",
            description = "Top and bottom output tokens per feature, 0 for none (default: ${DEFAULT-VALUE}).")
    int outputTokens;

    @Option(names = "--scan", paramLabel = "NAME",
            description = "Transcoder-set identifier written to the files (default: the transcoders' own scan, which "
                    + "attribute writes into graphs).")
    String scan;

    @CommandLine.Mixin
    ProgressOptions output = new ProgressOptions();

    @Override
    public void run() {
        if (partitions != null && partitions < 1) {
            throw usage("--partitions must be >= 1 (the number of Spark tasks the corpus is cut into), got "
                    + partitions + ".");
        }
        if (partitions != null && master == null) {
            throw usage("--partitions splits the corpus for Spark: add --master 'local[*]' (or a cluster's master), "
                    + "or leave --partitions out to compute in this process.");
        }
        DashboardLayout chosenLayout = parseLayout();
        Corpus.Format format = parseCorpusFormat();
        DashboardOptions options = options();
        Precision precision = load.check(spec);
        HubCache hub = HubCache.fromEnvironment();
        model = ModelOptions.locate(modelName, "--model", hub, false).path();
        transcoders = ModelOptions.locate(transcoderName, "--transcoders", hub, true).path();
        ModelOptions.requireDirectory(model, "--model");
        ModelOptions.requireDirectory(transcoders, "--transcoders");
        ModelOptions.Resolved resolved = new ModelOptions.Resolved(model, transcoders, false, precision,
                transcoderName);
        if (master != null) {
            runDistributed(chosenLayout, options, resolved);
            return;
        }
        if ("parquet".equals(corpusFormat) || ("auto".equals(corpusFormat) && looksLikeParquet(corpus))) {
            throw usage("a Parquet corpus (" + corpus + ") is read on Apache Spark: add --master 'local[*]' (the "
                    + "Spark add-on, docs/distributed.md), or give a text or .jsonl corpus.");
        }
        Corpus documents = format == null ? Corpus.read(corpus) : Corpus.read(corpus, format);
        try (Registries.Registry registry = Registries.open(load.pluginDirectory());
             DashboardProgress progress = new DashboardProgress(spec.commandLine().getErr(), output.quiet)) {
            BackendChoice.Choice choice = BackendChoice.choose(registry, load.backend, model);
            BackendProvider backendProvider = choice.provider();
            if (choice.reason() != null) {
                progress.note(choice.reason());
            }
            DictionaryFormatProvider dictionaryProvider = load.dictionaryFormat != null
                    ? registry.get(ProviderKind.DICTIONARY_FORMAT, load.dictionaryFormat)
                    : AttributeCommand.detectFormat(registry.all(ProviderKind.DICTIONARY_FORMAT), transcoders);
            progress.note("Loading model " + model + " (" + backendProvider.name() + ", "
                    + precision.name().toLowerCase(Locale.ROOT) + ")");
            try (TransformerModel m = backendProvider.create(new ModelSource(model, precision, "auto", Map.of()))) {
                progress.note("Loading transcoders " + transcoders + " (" + dictionaryProvider.name() + ")");
                try (SparseDictionary dictionary = dictionaryProvider.create(
                        load.dictionarySource(transcoders))) {
                    progress.note("Reading corpus " + corpus);
                    CollectedDashboards dashboards = FeatureDashboards.collect(m, dictionary, documents, options,
                            progress);
                    DashboardWriter.Result result = DashboardWriter.write(dashboards, outputDir, chosenLayout,
                            progress);
                    var out = spec.commandLine().getOut();
                    out.printf(Locale.ROOT, "Wrote %d feature dashboards (%s layout, scan %s) to %s%n",
                            result.features(), chosenLayout.id(), dashboards.scan(), result.directory());
                    out.printf(Locale.ROOT, "Corpus: %d documents, %d sequences, %d tokens; %d features never "
                            + "fired%n", dashboards.documents(), dashboards.sequences(), dashboards.tokens(),
                            totalFeatures(dashboards) - result.features());
                    out.flush();
                }
            }
        } catch (OutOfMemoryError e) {
            throw new CircuitTracerException(StandardErrorCode.OUT_OF_RESOURCES, "Out of memory while computing "
                    + "dashboards. Give Java more memory (java -Xmx...), or lower --top-k, --context-before/--context-"
                    + "after or --quantile-bands (each feature keeps that many example windows).", e);
        }
    }

    /** {@code --master}: the same dashboards, computed by the engine on the class path over partitions. */
    private void runDistributed(DashboardLayout chosenLayout, DashboardOptions options, ModelOptions.Resolved resolved) {
        DashboardEngine engine = engine();
        if (!Files.exists(corpus)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "--corpus " + corpus + " does not "
                    + "exist. Give a text, .jsonl or Parquet corpus file, or a directory of them.");
        }
        ModelSpec modelSpec = ModelSpec.of(load, resolved, "exact", Map.of());
        DashboardRequest request = new DashboardRequest(corpus.toAbsolutePath(), corpusFormat, outputDir,
                chosenLayout, master, modelSpec, options, partitions == null ? 0 : partitions);
        DashboardOutcome outcome;
        try (DashboardProgress progress = new DashboardProgress(spec.commandLine().getErr(),
                output.quiet)) {
            outcome = engine.run(request, progress, progress::note);
        }
        var out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "Wrote %d feature dashboards (%s layout, scan %s) to %s%n",
                outcome.written().features(), chosenLayout.id(), outcome.scan(), outcome.written().directory());
        out.printf(Locale.ROOT, "Corpus: %d documents, %d sequences, %d tokens in %d partition%s; %d features never "
                + "fired%n", outcome.documents(), outcome.sequences(), outcome.tokens(), outcome.partitions(),
                outcome.partitions() == 1 ? "" : "s", outcome.features() - outcome.written().features());
        out.flush();
    }

    /** A {@code .parquet} file, or a directory holding one. */
    static boolean looksLikeParquet(Path path) {
        if (Files.isDirectory(path)) {
            try (var list = Files.list(path)) {
                return list.anyMatch(FeaturesCommand::isParquetName);
            } catch (java.io.IOException e) {
                return false; // reading the corpus reports it
            }
        }
        return isParquetName(path);
    }

    private static boolean isParquetName(Path path) {
        return path.getFileName() != null && path.getFileName().toString().toLowerCase(Locale.ROOT)
                .endsWith(".parquet");
    }

    /** The dashboards engine on the class path, or an error that says how to get it. */
    static DashboardEngine engine() {
        Iterator<DashboardEngine> found = ServiceLoader.load(DashboardEngine.class,
                FeaturesCommand.class.getClassLoader()).iterator();
        if (!found.hasNext()) {
            throw new CircuitTracerException(StandardErrorCode.MISSING_CAPABILITY, "features --master runs on the "
                    + "Spark add-on (circuit-tracer-spark), which is not on the class path. " + BatchCommand.ADD_ON_HINT
                    + " Or leave --master out to compute in this process (docs/distributed.md).");
        }
        return found.next();
    }

    private DashboardOptions options() {
        atLeast("--top-k", topK, 1);
        atLeast("--context-before", contextBefore, 0);
        atLeast("--context-after", contextAfter, 0);
        atLeast("--max-sequence-length", maxSequenceLength, 2);
        atLeast("--batch-size", batchSize, 1);
        atLeast("--quantile-bands", quantileBands, 0);
        atLeast("--examples-per-band", examplesPerBand, 1);
        atLeast("--output-tokens", outputTokens, 0);
        if (quantileBands > 100) {
            throw usage("--quantile-bands must be at most 100, got " + quantileBands + ".");
        }
        if (scan != null && scan.isBlank()) {
            throw usage("--scan must not be blank.");
        }
        return DashboardOptions.defaults().withTopExamples(topK).withContext(contextBefore, contextAfter)
                .withMaxSequenceLength(maxSequenceLength).withBatchSize(batchSize)
                .withQuantileBands(quantileBands, examplesPerBand).withOutputTokens(outputTokens).withScan(scan);
    }

    private DashboardLayout parseLayout() {
        for (DashboardLayout l : DashboardLayout.values()) {
            if (l.id().equals(layout)) {
                return l;
            }
        }
        throw usage("--layout must be packed or json, got '" + layout + "'.");
    }

    private Corpus.Format parseCorpusFormat() {
        return switch (corpusFormat) {
            case "auto" -> null;
            case "text" -> Corpus.Format.TEXT;
            case "jsonl" -> Corpus.Format.JSONL;
            case "parquet" -> null; // read by the engine (--master only)
            default -> throw usage("--corpus-format must be auto, text, jsonl or parquet, got '" + corpusFormat
                    + "'.");
        };
    }

    private void atLeast(String option, int value, int min) {
        if (value < min) {
            throw usage(option + " must be >= " + min + ", got " + value + ".");
        }
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), "Invalid value: " + message);
    }

    private static long totalFeatures(CollectedDashboards d) {
        long n = 0;
        for (int l = 0; l < d.layers(); l++) {
            n += d.features(l);
        }
        return n;
    }
}
