package org.circuittracer.cli.batch;

import java.nio.file.Path;
import java.util.List;

/**
 * What a batch run did.
 *
 * @param features the cross-prompt feature table (Parquet)
 * @param failures one line per failed prompt: its slug (or line) and the reason
 */
public record BatchOutcome(int total, int written, int skipped, int failed, Path index, Path summaryCsv,
                           Path summaryParquet, Path features, List<String> failures) {

    public BatchOutcome {
        failures = List.copyOf(failures);
    }
}
