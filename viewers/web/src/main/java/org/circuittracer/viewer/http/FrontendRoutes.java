package org.circuittracer.viewer.http;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.viewer.files.ServedDirectory;

/**
 * Another frontend's static files (e.g. the reference circuit-tracer's {@code frontend/assets}) served at {@code /}
 * instead of our UI: {@code GET} and {@code HEAD} of any path that no data route claims. Registered after the data and
 * API routes, which keep their paths ({@code /data/}, {@code /graph_data/}, {@code /features/}, {@code /save_graph/},
 * {@code /api/}). Paths are confined to the directory ({@link ServedDirectory}: no {@code ..}, no links out of it, no
 * listings); {@code /} and any {@code dir/} serve that directory's {@code index.html}, a directory named without its
 * slash is redirected to it (so that the page's relative URLs resolve), and {@code /favicon.ico} falls back to our
 * icon when the directory has none.
 */
final class FrontendRoutes {

    private final ServedDirectory directory;

    FrontendRoutes(ServedDirectory directory) {
        this.directory = directory;
    }

    void register(RoutesConfig routes) {
        routes.get("/", ctx -> serve(ctx, true));
        routes.head("/", ctx -> serve(ctx, false));
        routes.get("/<rest>", ctx -> serve(ctx, true));
        routes.head("/<rest>", ctx -> serve(ctx, false));
    }

    private void serve(Context ctx, boolean body) throws IOException {
        String raw = Http.rawPathAfter(ctx, "/");
        if (raw.isEmpty() || raw.endsWith("/")) {
            raw = raw + "index.html";
        }
        Path file;
        try {
            file = directory.resolveFile(raw);
        } catch (CircuitTracerException notAFile) {
            Path candidate = existingDirectory(raw);
            if (candidate != null) {
                String query = ctx.queryString();
                ctx.redirect("/" + raw + "/" + (query == null ? "" : "?" + query));
                return;
            }
            if (raw.equals("favicon.ico")) {
                UiRoutes.favicon(ctx);
                return;
            }
            throw notAFile;
        }
        long size = Files.size(file);
        ctx.status(200);
        ctx.contentType(ContentTypes.of(file.getFileName().toString()));
        ctx.header("Cache-Control", "no-cache");
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("Content-Length", Long.toString(size));
        if (!body) {
            return;
        }
        try (InputStream in = Files.newInputStream(file)) {
            in.transferTo(ctx.res().getOutputStream());
        }
    }

    /** The directory {@code raw} names inside the served one, or null. */
    private Path existingDirectory(String raw) {
        try {
            Path p = directory.resolve(ServedDirectory.percentDecode(raw));
            return Files.isDirectory(p) ? p : null;
        } catch (CircuitTracerException e) {
            return null;
        }
    }
}
