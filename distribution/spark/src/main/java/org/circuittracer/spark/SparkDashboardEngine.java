package org.circuittracer.spark;

import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;

import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.cli.OpenedModel;
import org.circuittracer.cli.batch.BatchProgress;
import org.circuittracer.cli.batch.DashboardEngine;
import org.circuittracer.cli.batch.DashboardOutcome;
import org.circuittracer.cli.batch.DashboardRequest;
import org.circuittracer.dashboards.CollectedDashboards;
import org.circuittracer.dashboards.CorpusSlice;
import org.circuittracer.dashboards.DashboardListener;
import org.circuittracer.dashboards.DashboardPhase;
import org.circuittracer.dashboards.FeatureDashboards;
import org.circuittracer.dashboards.PartialDashboards;
import org.circuittracer.dashboards.files.DashboardWriter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCode;
import org.circuittracer.spi.StandardErrorCode;

/**
 * {@code circuit-tracer features --master ...} on Apache Spark. The corpus is read as partitions of lines in corpus
 * order; a counting pass (tokenisation only) gives each partition the number of documents and sequences before it;
 * each partition then runs the single-machine pass from there ({@link FeatureDashboards#collectPartial}), and the
 * partial states are merged by a tree reduction. As a merge keeps what one pass keeps whatever the grouping, the
 * driver finishes (output tokens, token strings) and writes exactly the files of the single-machine command.
 */
public final class SparkDashboardEngine implements DashboardEngine {

    @Override
    public String name() {
        return "spark";
    }

    @Override
    public DashboardOutcome run(DashboardRequest request, DashboardListener listener, Consumer<String> notes) {
        SparkConf conf = new SparkConf().setAppName("circuit-tracer features")
                .setIfMissing("spark.ui.showConsoleProgress", "false");
        if (request.master() != null) {
            conf.setMaster(request.master());
        } else if (!conf.contains("spark.master")) {
            conf.setMaster(SparkBatchEngine.DEFAULT_MASTER);
        }
        CorpusInput input = CorpusInput.of(request.corpus(), request.format());
        // the driver finishes with the model too: open it first, so a bad path fails before any job
        notes.accept("Loading model " + request.model().model() + " and transcoders " + request.model().transcoders());
        OpenedModel opened = ExecutorModels.get(request.model());
        ReplacementModel replacement = ReplacementModel.of(opened.model(), opened.dictionary());
        boolean ours = SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty();
        notes.accept("Starting Spark (" + conf.get("spark.master") + ")");
        SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
        try {
            return run(spark, input, request, replacement, listener, notes);
        } finally {
            if (ours) {
                spark.stop();
            }
        }
    }

    private static DashboardOutcome run(SparkSession spark, CorpusInput input, DashboardRequest request,
                                        ReplacementModel replacement, DashboardListener listener,
                                        Consumer<String> notes) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JavaRDD<CorpusLine> lines = input.lines(spark, request.partitions()).persist(StorageLevel.MEMORY_AND_DISK());
        try {
            int partitions = lines.getNumPartitions();
            notes.accept("Counting the corpus's documents and sequences in " + partitions + " partition"
                    + (partitions == 1 ? "" : "s"));
            CorpusSlice[] starts = starts(lines.mapPartitionsWithIndex(new CountTask(input, request.model(),
                    request.options()), false), partitions);
            long documents = starts[partitions].firstDocument();
            LongAccumulator done = jsc.sc().longAccumulator("documents done");
            listener.phaseStarted(DashboardPhase.CORPUS, documents);
            long start = System.nanoTime();
            byte[] merged;
            try (ProgressPoller poller = new ProgressPoller(done, documents, corpusProgress(listener))) {
                merged = lines.mapPartitionsWithIndex(new PartialTask(input, request.model(), request.options(),
                        java.util.Arrays.copyOf(starts, partitions), done), false)
                        .treeReduce(SparkDashboardEngine::merge);
            } catch (CircuitTracerException e) {
                throw e;
            } catch (Exception e) { // Spark throws its checked SparkException without declaring it
                throw jobFailed(e);
            }
            PartialDashboards state = PartialDashboards.fromBytes(merged);
            listener.progress(DashboardPhase.CORPUS, documents, documents, state.tokens());
            listener.phaseFinished(DashboardPhase.CORPUS, System.nanoTime() - start);
            CollectedDashboards dashboards = FeatureDashboards.finish(replacement, state, listener);
            DashboardWriter.Result written = DashboardWriter.write(dashboards, request.outputDir(), request.layout(),
                    listener);
            long features = java.util.Arrays.stream(state.featuresPerLayer()).asLongStream().sum();
            return new DashboardOutcome(written, dashboards.scan(), dashboards.documents(), dashboards.sequences(),
                    dashboards.tokens(), features, partitions);
        } finally {
            lines.unpersist(false);
        }
    }

    /** The merge of two partial states, as bytes (what travels between executors). */
    private static byte[] merge(byte[] a, byte[] b) {
        return PartialDashboards.fromBytes(a).merge(PartialDashboards.fromBytes(b)).toBytes();
    }

    /**
     * Where each partition starts (and, at index {@code partitions}, the totals), from the counts; the first
     * unreadable document, in corpus order, is reported here with its corpus-wide number.
     */
    private static CorpusSlice[] starts(JavaRDD<SliceCount> counts, int partitions) {
        List<SliceCount> all;
        try {
            all = counts.collect().stream().sorted(Comparator.comparingInt(SliceCount::partition)).toList();
        } catch (Exception e) {
            throw jobFailed(e);
        }
        CorpusSlice[] starts = new CorpusSlice[partitions + 1];
        starts[0] = CorpusSlice.START;
        for (SliceCount c : all) {
            CorpusSlice at = starts[c.partition()];
            if (c.errorMessage() != null) {
                String message = c.errorDocument() < 0 ? c.errorMessage() : "Document "
                        + (at.firstDocument() + c.errorDocument() + 1) + " of the corpus: " + c.errorMessage();
                throw new CircuitTracerException(code(c.errorCode()), message);
            }
            starts[c.partition() + 1] = at.after(c.documents(), c.sequences());
        }
        return starts;
    }

    /** Documents done / total for the listener, through the batch engine's progress poller. */
    private static BatchProgress corpusProgress(DashboardListener listener) {
        return new BatchProgress() {
            @Override
            public void note(String message) {
            }

            @Override
            public void graphs(long done, long total) {
                listener.progress(DashboardPhase.CORPUS, done, total, 0);
            }
        };
    }

    private static ErrorCode code(String name) {
        try {
            return name == null ? StandardErrorCode.INTERNAL : StandardErrorCode.valueOf(name);
        } catch (IllegalArgumentException e) {
            return StandardErrorCode.INTERNAL;
        }
    }

    /** A job Spark gave up on: our own error when a task threw one, with its message; nothing was written. */
    private static CircuitTracerException jobFailed(Exception e) {
        Throwable cause = e;
        while (cause.getCause() != null && !(cause instanceof CircuitTracerException)) {
            cause = cause.getCause();
        }
        String after = " Nothing was written; the output directory holds what it held before.";
        if (cause instanceof CircuitTracerException c) {
            // the code survives the trip from an executor JVM by name (CircuitTracerException.errorCode)
            return new CircuitTracerException(c.errorCode(), "A dashboards task failed: " + c.getMessage() + after, e);
        }
        return new CircuitTracerException(StandardErrorCode.INTERNAL, "The dashboards job failed: " + cause + " (run "
                + "with --verbose for the stack trace)." + after, e);
    }
}
