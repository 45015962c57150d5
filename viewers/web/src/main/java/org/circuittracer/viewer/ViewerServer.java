package org.circuittracer.viewer;

import io.javalin.Javalin;
import java.net.URI;
import org.circuittracer.viewer.files.FileWrites;
import org.circuittracer.viewer.http.Server;
import org.circuittracer.viewer.work.JobRunner;

/**
 * A running viewer: serves a graph directory (and optionally feature files) with the reference's routes and ours, the
 * web UI, annotation storage and, with a model, new graphs and steering. See docs/viewer.md.
 *
 * <pre>{@code
 * try (ViewerServer server = ViewerServer.start(ViewerConfig.of(graphDir).withPort(0))) {
 *     System.out.println("Open " + server.url());
 * }
 * }</pre>
 */
public final class ViewerServer implements AutoCloseable {

    private final Javalin app;
    private final JobRunner jobs;
    private final String host;

    private ViewerServer(Javalin app, JobRunner jobs, String host) {
        this.app = app;
        this.jobs = jobs;
        this.host = host;
    }

    /** Starts a server; it runs until {@link #close()}. */
    public static ViewerServer start(ViewerConfig config) {
        return start(config, FileWrites.ATOMIC);
    }

    /** Starts a server whose writes into the graph directory go through {@code writes} (tests inject failures). */
    static ViewerServer start(ViewerConfig config, FileWrites writes) {
        JobRunner jobs = config.workbench() == null ? null : new JobRunner(config.workbench());
        try {
            Javalin app = Server.create(config, jobs, writes).start();
            return new ViewerServer(app, jobs, config.host());
        } catch (RuntimeException e) {
            if (jobs != null) {
                jobs.close();
            }
            throw e;
        }
    }

    public int port() {
        return app.port();
    }

    /** The page's address, e.g. {@code http://127.0.0.1:8041/}. */
    public URI url() {
        String h = host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
        if (h.contains(":")) {
            h = "[" + h + "]";
        }
        return URI.create("http://" + h + ":" + port() + "/");
    }

    @Override
    public void close() {
        app.stop();
        if (jobs != null) {
            jobs.close();
        }
    }
}
