package org.circuittracer.cli.batch;

import java.nio.file.Path;
import java.util.Objects;

import org.circuittracer.cli.ModelSpec;
import org.circuittracer.dashboards.DashboardOptions;
import org.circuittracer.dashboards.files.DashboardLayout;

/**
 * One distributed dashboards run.
 *
 * @param corpus     a corpus file or directory (text, JSON Lines or Parquet with a {@code text} column)
 * @param format     how to read it: {@code auto} (from the name), {@code text}, {@code jsonl} or {@code parquet}
 * @param outputDir  where the dashboards go, as for the single-machine command
 * @param layout     the file layout
 * @param master     the engine's master URL, or null for the engine's default (its own configuration, else
 *                   in-process on every core)
 * @param model      the model and transcoders, at the same path on every machine
 * @param options    what is computed
 * @param partitions how many parts the corpus is cut into (0: the engine's default parallelism); the files do not
 *                   depend on it
 */
public record DashboardRequest(Path corpus, String format, Path outputDir, DashboardLayout layout, String master,
                               ModelSpec model, DashboardOptions options, int partitions) {

    public DashboardRequest {
        Objects.requireNonNull(corpus, "corpus");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(outputDir, "outputDir");
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(options, "options");
        if (partitions < 0) {
            throw new IllegalArgumentException("partitions must be >= 0");
        }
    }
}
