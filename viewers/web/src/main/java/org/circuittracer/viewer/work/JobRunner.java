package org.circuittracer.viewer.work;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.circuittracer.attribution.export.GraphJsonExporter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionPhase;

/**
 * Runs model work on one thread, so a model is never used by two requests at once: new graphs as background
 * {@link Job}s with progress events and cancellation, steering as a call that waits for its turn.
 */
public final class JobRunner implements AutoCloseable {

    private final ModelWorkbench workbench;
    private final ExecutorService executor;
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();

    public JobRunner(ModelWorkbench workbench) {
        this.workbench = workbench;
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "viewer-model-work");
            t.setDaemon(true);
            return t;
        });
    }

    public ModelWorkbench workbench() {
        return workbench;
    }

    public Optional<Job> job(String id) {
        return Optional.ofNullable(jobs.get(id));
    }

    /** Queues a new graph; {@code before} runs on the work thread first (e.g. to check the slug is free). */
    public Job createGraph(NewGraphRequest request, Path directory, Runnable before) {
        Job job = new Job(UUID.randomUUID().toString(), "create-graph");
        jobs.put(job.id(), job);
        job.emit(Job.State.QUEUED, "queued", Map.of("slug", request.slug()));
        executor.submit(() -> run(job, request, directory, before));
        return job;
    }

    /** Runs {@code work} on the model thread and waits for it. */
    public <T> T runExclusive(Callable<T> work) {
        Future<T> f = executor.submit(work);
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new CircuitTracerException(StandardErrorCode.CANCELLED, "Interrupted while waiting for the model.");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Model work failed: " + e.getCause(),
                    e.getCause());
        }
    }

    private void run(Job job, NewGraphRequest request, Path directory, Runnable before) {
        if (job.cancelRequested()) {
            job.emit(Job.State.CANCELLED, "cancelled", Map.of("message", "Cancelled before it started."));
            return;
        }
        job.emit(Job.State.RUNNING, "started", Map.of("slug", request.slug()));
        try {
            before.run();
            GraphJsonExporter.Result result = workbench.createGraph(request, directory, new AttributionListener() {
                @Override
                public void phaseStarted(AttributionPhase phase, long totalSteps) {
                    job.emit(Job.State.RUNNING, "phase", JobRunner.progress(phase, 0, totalSteps));
                }

                @Override
                public void progress(AttributionPhase phase, long done, long totalSteps) {
                    job.emit(Job.State.RUNNING, "progress", JobRunner.progress(phase, done, totalSteps));
                }

                @Override
                public boolean isCancelled() {
                    return job.cancelRequested();
                }
            });
            Map<String, Object> done = new LinkedHashMap<>();
            done.put("slug", request.slug());
            done.put("nodes", result.nodes());
            done.put("links", result.links());
            done.put("warnings", result.warnings());
            job.emit(Job.State.DONE, "done", done);
        } catch (CircuitTracerException e) {
            if (e.errorCode() == StandardErrorCode.CANCELLED || job.cancelRequested()) {
                job.emit(Job.State.CANCELLED, "cancelled", Map.of("message", "Cancelled; no graph was written."));
            } else {
                job.emit(Job.State.FAILED, "failed", Map.of("code", e.errorCode().code(), "message", e.getMessage()));
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            job.emit(Job.State.FAILED, "failed", Map.of("code", "INTERNAL", "message", "Making graph '"
                    + request.slug() + "' failed in the model: " + e + ". No graph was written and the server keeps "
                    + "running; try a shorter prompt or fewer feature nodes"
                    + (e instanceof OutOfMemoryError ? " (the model ran out of memory)" : "")
                    + ", and report the error if it persists."));
        }
    }

    private static Map<String, Object> progress(AttributionPhase phase, long done, long total) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("phase", phase.name());
        m.put("done", done);
        m.put("total", total);
        return m;
    }

    @Override
    public void close() {
        jobs.values().forEach(Job::cancel);
        executor.shutdownNow();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
