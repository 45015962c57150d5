package org.circuittracer.viewer.http;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import org.circuittracer.viewer.ViewerErrors;

/** The page and its assets, from the class path ({@code viewer/}): {@code /}, {@code /index.html}, {@code /ui/*}. */
final class UiRoutes {

    private static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8", "svg", "image/svg+xml",
            "png", "image/png", "json", "application/json", "txt", "text/plain; charset=utf-8");

    void register(RoutesConfig routes) {
        routes.get("/", ctx -> asset(ctx, "index.html"));
        routes.get("/index.html", ctx -> asset(ctx, "index.html"));
        routes.get("/ui/<rest>", ctx -> asset(ctx, Http.rawPathAfter(ctx, "/ui/")));
    }

    private static void asset(Context ctx, String path) throws IOException {
        if (!path.matches("[A-Za-z0-9_\\-]+(/[A-Za-z0-9_\\-]+)*(\\.[A-Za-z0-9]+)+")) {
            throw ViewerErrors.notFound("No asset '" + path + "'.");
        }
        try (InputStream in = UiRoutes.class.getClassLoader().getResourceAsStream("viewer/" + path)) {
            if (in == null) {
                throw ViewerErrors.notFound("No asset '" + path + "'.");
            }
            String ext = path.substring(path.lastIndexOf('.') + 1);
            ctx.status(200);
            ctx.contentType(TYPES.getOrDefault(ext, "application/octet-stream"));
            ctx.header("Cache-Control", "no-cache");
            ctx.header("X-Content-Type-Options", "nosniff");
            ctx.result(in.readAllBytes());
        }
    }
}
