package org.circuittracer.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;

import org.circuittracer.cli.batch.BatchEngine;
import org.circuittracer.cli.batch.BatchOutcome;
import org.circuittracer.cli.batch.BatchProgress;
import org.circuittracer.cli.batch.BatchRequest;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code circuit-tracer batch}: attribution graphs for a file of prompts, on the Spark add-on. */
@Command(name = "batch", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Attribute every prompt of FILE (JSON Lines with \"prompt\" or \"prompt_ids\", optional \"slug\" "
                + "and \"target\"; or Parquet with the same columns) on Apache Spark, and write DIR/graphs/SLUG.json "
                + "with DIR/graphs/graph-metadata.json, DIR/graph-files/SLUG.graph.safetensors and a summary table "
                + "(DIR/summary.csv, DIR/summary.parquet) and the features across graphs (DIR/features.parquet). A bad "
                + "prompt is a failed row with its reason.",
                "Needs the Spark add-on (circuit-tracer-spark) on the class path; docs/distributed.md."},
        footer = {"", "Examples:",
                "  circuit-tracer batch --prompts prompts.jsonl --out batch-out",
                "      the demo model, in this process on every core (--master local[*])",
                "  circuit-tracer batch --prompts prompts.parquet --model models/llama --transcoders tc --out out "
                        + "--resume",
                "      skips prompts whose graph JSON and graph file exist"})
final class BatchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--prompts", required = true, paramLabel = "FILE",
            description = "The prompts: JSON Lines (.jsonl, .json) or Parquet (.parquet, or a directory of them).")
    Path prompts;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory, created if missing.")
    Path out;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master: local[*] (default, in this process), local[N], spark://HOST:PORT, yarn, "
                    + "k8s://... (cluster masters need the model and transcoders at the same path on every worker).")
    String master;

    @CommandLine.Mixin
    ModelOptions modelOptions = new ModelOptions();

    @Option(names = "--attributor", defaultValue = "exact", paramLabel = "NAME",
            description = "Attributor provider (default: ${DEFAULT-VALUE}).")
    String attributor;

    @Option(names = "--attributor-option", paramLabel = "NAME=VALUE",
            description = "A setting of the attributor, repeatable; each attributor documents its own (exact takes "
                    + "none).")
    Map<String, String> attributorOptions = new LinkedHashMap<>();

    @CommandLine.Mixin
    AttributionSettingsOptions attribution = new AttributionSettingsOptions();

    @Option(names = "--resume", description = "Skip prompts whose graph JSON and graph file exist.")
    boolean resume;

    @Option(names = "--prompts-per-task", defaultValue = "1", paramLabel = "N",
            description = "Prompts per Spark task (default: ${DEFAULT-VALUE}).")
    int promptsPerTask;

    @Option(names = "--partitions", paramLabel = "N",
            description = "Split the prompts into N Spark tasks (partitions) of about equal size, in input order, "
                    + "instead of one task per --prompts-per-task prompts; at most one task per prompt.")
    Integer partitions;

    @CommandLine.Mixin
    ProgressOptions output = new ProgressOptions();

    @Override
    public void run() {
        PromptAttribution.Settings settings = attribution.settings(spec);
        if (promptsPerTask < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value: --prompts-per-task must be "
                    + ">= 1, got " + promptsPerTask + ".");
        }
        if (partitions != null && partitions < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value: --partitions must be >= 1 "
                    + "(the number of Spark tasks the prompts are split into), got " + partitions + ".");
        }
        if (partitions != null && spec.commandLine().getParseResult().hasMatchedOption("--prompts-per-task")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--partitions and --prompts-per-task both "
                    + "set how the prompts are split into tasks: give one of them.");
        }
        BatchEngine engine = engine();
        ModelOptions.Resolved resolved = modelOptions.resolve(spec);
        if (!Files.exists(prompts)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "--prompts " + prompts
                    + " does not exist. Give a JSON Lines or Parquet file of prompts.");
        }
        BatchRequest request = new BatchRequest(prompts, out, master, ModelSpec.of(modelOptions, resolved, attributor, attributorOptions),
                settings, resume, promptsPerTask, partitions == null ? 0 : partitions, Set.of());
        BatchOutcome outcome;
        try (ConsoleProgress console = new ConsoleProgress(spec.commandLine().getErr(), output.quiet)) {
            outcome = engine.run(request, new BatchProgress() {
                private boolean started;

                @Override
                public void note(String message) {
                    console.note(message);
                }

                @Override
                public void graphs(long done, long total) {
                    if (!started) {
                        console.start("Graphs", total, "");
                        started = true;
                    }
                    console.step(done, total, "");
                }
            });
        }
        var printer = spec.commandLine().getOut();
        printer.printf("%d prompts: %d graphs written, %d skipped (--resume), %d failed%n", outcome.total(),
                outcome.written(), outcome.skipped(), outcome.failed());
        outcome.failures().forEach(f -> printer.printf("  failed: %s%n", f));
        printer.printf("Wrote %s, %s, %s and %s%n", outcome.index(), outcome.summaryCsv(), outcome.summaryParquet(),
                outcome.features());
        printer.printf("To view them: %s%n", Viewing.shellCommand(java.util.List.of("circuit-tracer", "serve",
                "--graph-file-dir", outcome.index().getParent().toString())));
        printer.flush();
    }

    /** How to get the Spark add-on, for the errors of the commands that need it. */
    static final String ADD_ON_HINT = "In the packaged tool: unpack circuit-tracer-spark-VERSION.tar.gz (the add-on "
            + "archive released beside circuit-tracer-VERSION.tar.gz, of the same version) in the directory that holds "
            + "circuit-tracer/, which adds circuit-tracer/spark/; the launcher uses it by itself. From the sources: "
            + "mvn -B -ntp package -DskipTests -pl distribution/package -am builds both archives and "
            + "distribution/target/circuit-tracer/ with the add-on, or -pl distribution/spark -am builds "
            + "distribution/spark/target/circuit-tracer-spark.jar to run with java -jar.";

    /** The engine on the class path, or an error that says how to get it. */
    static BatchEngine engine() {
        Iterator<BatchEngine> found = ServiceLoader.load(BatchEngine.class, BatchCommand.class.getClassLoader())
                .iterator();
        if (!found.hasNext()) {
            throw new CircuitTracerException(StandardErrorCode.MISSING_CAPABILITY, "The batch command runs on the "
                    + "Spark add-on (circuit-tracer-spark), which is not on the class path. " + ADD_ON_HINT
                    + " Then run bin/circuit-tracer batch ... again (docs/distributed.md).");
        }
        return found.next();
    }
}
