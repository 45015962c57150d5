package org.circuittracer.spark;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;

import org.circuittracer.cli.batch.BatchEngine;
import org.circuittracer.cli.batch.BatchOutcome;
import org.circuittracer.cli.batch.BatchProgress;
import org.circuittracer.cli.batch.BatchRequest;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * {@code circuit-tracer batch} on Apache Spark. The driver reads the prompts and names them, one task runs each
 * group of {@code promptsPerTask} prompts (or each of {@code partitions} about equal runs of them), and the driver writes what needs the whole batch: the graph index and the
 * summary table. Without a master (the request's or Spark's configuration, as spark-submit sets it) it runs in this
 * process on every core.
 */
public final class SparkBatchEngine implements BatchEngine {

    /** The master when neither the request nor Spark's configuration names one. */
    public static final String DEFAULT_MASTER = "local[*]";

    @Override
    public String name() {
        return "spark";
    }

    @Override
    public BatchOutcome run(BatchRequest request, BatchProgress progress) {
        SparkConf conf = new SparkConf().setAppName("circuit-tracer batch")
                .setIfMissing("spark.ui.showConsoleProgress", "false");
        if (request.master() != null) {
            conf.setMaster(request.master());
        } else if (!conf.contains("spark.master")) {
            conf.setMaster(DEFAULT_MASTER);
        }
        boolean ours = SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty();
        progress.note("Starting Spark (" + conf.get("spark.master") + ")");
        SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
        try {
            return run(spark, request, progress);
        } finally {
            if (ours) {
                spark.stop();
            }
        }
    }

    private static BatchOutcome run(SparkSession spark, BatchRequest request, BatchProgress progress) {
        List<PromptRow> rows = PromptFile.read(spark, request.prompts());
        if (rows.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "--prompts " + request.prompts()
                    + " holds no prompt. Give one JSON object per line, e.g. {\"prompt\": \"the cat sat on the\"}.");
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        LongAccumulator done = jsc.sc().longAccumulator("prompts done");
        int slices = request.tasks(rows.size());
        progress.note("Attributing " + rows.size() + " prompts in " + slices + " task" + (slices == 1 ? "" : "s")
                + (request.partitions() > rows.size() ? " (--partitions " + request.partitions() + " is more than "
                + "there are prompts: one task each)" : ""));
        List<SummaryRow> results;
        try (ProgressPoller poller = new ProgressPoller(done, rows.size(), progress)) {
            results = new ArrayList<>(jsc.parallelize(rows, slices).mapPartitions(new PromptTask(request, done))
                    .collect());
        } catch (Exception e) { // Spark throws its checked SparkException without declaring it
            throw jobFailed(e);
        }
        results.sort(Comparator.comparingInt(SummaryRow::number));
        progress.graphs(results.size(), rows.size());
        OutputLayout layout = new OutputLayout(request.out());
        BatchIndex.write(layout.index(), results);
        SummaryTable.writeCsv(results, layout.summaryCsv());
        SummaryTable.writeParquet(spark, results, layout.summaryParquet());
        List<FeatureTable.Entry> features = FeatureTable.of(results);
        FeatureTable.writeParquet(spark, features, layout.featuresParquet());
        long graphs = results.stream().filter(r -> !SummaryRow.FAILED.equals(r.status())).count();
        FeaturesJson.write(features, graphs, layout.featuresJson());
        List<String> failures = results.stream().filter(r -> SummaryRow.FAILED.equals(r.status()))
                .map(r -> r.slug() + ": " + r.error()).toList();
        int skipped = (int) results.stream().filter(r -> SummaryRow.SKIPPED.equals(r.status())).count();
        return new BatchOutcome(results.size(), results.size() - skipped - failures.size(), skipped, failures.size(),
                layout.index(), layout.summaryCsv(), layout.summaryParquet(), layout.featuresParquet(), failures);
    }

    /**
     * A job that Spark gave up on (a task failed as often as it may): our own error when a task threw one (a model
     * that does not open on a worker, say), with the way on; finished prompts' outputs are complete either way.
     */
    private static CircuitTracerException jobFailed(Exception e) {
        Throwable cause = e;
        while (cause.getCause() != null && !(cause instanceof CircuitTracerException)) {
            cause = cause.getCause();
        }
        String after = " The outputs of the prompts that finished are complete; run again with --resume to do only the "
                + "rest.";
        if (cause instanceof CircuitTracerException c) {
            // the code survives the trip from an executor JVM by name (CircuitTracerException.errorCode)
            return new CircuitTracerException(c.errorCode(), "A batch task failed: " + c.getMessage() + after, e);
        }
        return new CircuitTracerException(StandardErrorCode.INTERNAL, "The batch job failed: " + cause + " (run with "
                + "--verbose for the stack trace)." + after, e);
    }
}
