package org.circuittracer.cli.batch;

/** What a batch run reports while it runs; called from the driver only. */
public interface BatchProgress {

    /** A line of information. */
    void note(String message);

    /** {@code done} of {@code total} prompts finished (written, failed or skipped). */
    void graphs(long done, long total);

    /** Progress that says nothing (tests, spark-submit without a console). */
    BatchProgress SILENT = new BatchProgress() {
        @Override
        public void note(String message) {
        }

        @Override
        public void graphs(long done, long total) {
        }
    };
}
