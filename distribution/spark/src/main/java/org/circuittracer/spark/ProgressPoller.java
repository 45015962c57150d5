package org.circuittracer.spark;

import org.apache.spark.util.LongAccumulator;

import org.circuittracer.cli.batch.BatchProgress;

/**
 * Reports prompts done / total on the driver while a job runs: Spark merges the tasks' accumulator updates on the
 * driver as tasks finish, and this thread reads them a few times a second.
 */
final class ProgressPoller implements AutoCloseable {

    private final Thread thread;

    ProgressPoller(LongAccumulator done, long total, BatchProgress progress) {
        thread = new Thread(() -> {
            long last = -1;
            while (!Thread.currentThread().isInterrupted()) {
                long now = Math.min(done.value(), total); // a retried task may count twice
                if (now != last) {
                    progress.graphs(now, total);
                    last = now;
                }
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "circuit-tracer-batch-progress");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() {
        thread.interrupt();
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
