package org.circuittracer.viewer.http;

import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.HttpResponseException;
import java.nio.file.Files;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.viewer.ViewerConfig;
import org.circuittracer.viewer.annotations.AnnotationStore;
import org.circuittracer.viewer.files.FeatureStore;
import org.circuittracer.viewer.files.FileWrites;
import org.circuittracer.viewer.files.ServedDirectory;
import org.circuittracer.viewer.graph.GraphStore;
import org.circuittracer.viewer.work.JobRunner;

/** Builds the Javalin application: routes, limits and the mapping of failures to JSON error answers. */
public final class Server {

    private Server() {
    }

    /**
     * Creates (does not start) the application.
     *
     * @param jobs the model's job runner, or {@code null} without a model
     */
    public static Javalin create(ViewerConfig config, JobRunner jobs) {
        return create(config, jobs, FileWrites.ATOMIC);
    }

    /**
     * Creates the application with {@code writes} replacing the files of the graph directory (tests inject write
     * failures through it). Stale temporary files of interrupted writes in the graph directory are deleted first.
     */
    public static Javalin create(ViewerConfig config, JobRunner jobs, FileWrites writes) {
        ServedDirectory graphDir = new ServedDirectory(config.graphDir(), "graph directory");
        FileWrites.deleteStaleTemporaries(graphDir.root());
        GraphStore graphs = new GraphStore(graphDir, writes);
        ServedDirectory featureDir = config.featuresDir() == null ? null
                : new ServedDirectory(config.featuresDir(), "features directory");
        FeatureStore features = featureDir == null ? null : new FeatureStore(featureDir);
        AnnotationStore annotations = new AnnotationStore(graphs);
        ServedDirectory frontend = config.frontendDir() == null ? null
                : new ServedDirectory(config.frontendDir(), "frontend directory");
        if (frontend != null && !Files.isRegularFile(frontend.root().resolve("index.html"))) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The frontend directory "
                    + config.frontendDir() + " has no index.html. Give the directory that holds the frontend's "
                    + "index.html (for the Python circuit-tracer: circuit_tracer/frontend/assets).");
        }
        return Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.http.compressionStrategy = CompressionStrategy.NONE; // feature files must never be re-encoded
            cfg.http.maxRequestSize = config.maxBodyBytes();
            cfg.jetty.host = config.host();
            cfg.jetty.port = config.port();
            // requests Jetty refuses before routing (bad UTF-8 in a path, ...) answer in our JSON error form too
            JsonErrorHandler errors = new JsonErrorHandler();
            cfg.jetty.modifyServer(server -> server.setErrorHandler(errors));
            cfg.jetty.modifyServletContextHandler(context -> context.setErrorHandler(errors));
            if (frontend == null) {
                new UiRoutes().register(cfg.routes);
            }
            new DataRoutes(graphs, featureDir).register(cfg.routes);
            new ApiRoutes(graphs, annotations, features, jobs, config.maxBodyBytes()).register(cfg.routes);
            if (frontend != null) {
                new FrontendRoutes(frontend).register(cfg.routes); // last: its catch-all yields to the routes above
            }
            cfg.routes.exception(CircuitTracerException.class, (e, ctx) -> Http.error(ctx, e));
            cfg.routes.exception(HttpResponseException.class, (e, ctx) -> Http.error(ctx, e.getStatus(),
                    e.getStatus() == 404 ? "NOT_FOUND" : "HTTP_" + e.getStatus(), e.getStatus() == 404
                            ? "No route " + ctx.method() + " " + ctx.path() + ". See docs/viewer.md for the routes."
                            : e.getMessage()));
            cfg.routes.exception(Exception.class, (e, ctx) -> {
                if (Http.isPercentDecodingError(e)) {
                    // Javalin decodes path parameters with URLDecoder before any route runs: a bad escape is the
                    // client's, not a bug of ours (found by a -Pfuzz run: HEAD /features/a%%01)
                    Http.error(ctx, 400, "BAD_REQUEST", "The request path has an invalid %-escape (" + e.getMessage()
                            + "); write a literal % as %25.");
                    return;
                }
                Http.error(ctx, 500, "INTERNAL", "Internal error: " + e + ". This is a bug of the viewer (the server "
                        + "keeps running); please report it with the request that caused it.");
            });
            cfg.routes.error(404, ctx -> {
                if (ctx.result() == null || ctx.result().isEmpty()) {
                    Http.error(ctx, 404, "NOT_FOUND", "No route " + ctx.method() + " " + ctx.path()
                            + ". See docs/viewer.md for the routes.");
                }
            });
            cfg.routes.error(405, ctx -> Http.error(ctx, 405, "METHOD_NOT_ALLOWED", "Method " + ctx.method()
                    + " is not allowed on " + ctx.path() + "."));
        });
    }
}
