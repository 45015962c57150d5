package org.circuittracer.viewer.http;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import org.circuittracer.viewer.ViewerErrors;

/**
 * The page and its assets, from the class path ({@code viewer/}): {@code /}, {@code /index.html}, {@code /global.html}, {@code /ui/*}, and
 * {@code /favicon.ico} (our SVG icon, for clients that ask for it without reading the page's {@code <link rel=icon>}).
 */
final class UiRoutes {

    /** Our icon, under {@code /ui/}. */
    static final String FAVICON = "favicon.svg";

    void register(RoutesConfig routes) {
        routes.get("/", ctx -> asset(ctx, "index.html"));
        routes.get("/index.html", ctx -> asset(ctx, "index.html"));
        routes.get("/global.html", ctx -> asset(ctx, "global.html")); // features across graphs
        routes.get("/ui/<rest>", ctx -> asset(ctx, Http.rawPathAfter(ctx, "/ui/")));
        routes.get("/favicon.ico", UiRoutes::favicon);
    }

    /** Our icon. */
    static void favicon(Context ctx) throws IOException {
        asset(ctx, FAVICON);
    }

    static void asset(Context ctx, String path) throws IOException {
        if (!path.matches("[A-Za-z0-9_\\-]+(/[A-Za-z0-9_\\-]+)*(\\.[A-Za-z0-9]+)+")) {
            throw ViewerErrors.notFound("No asset '" + path + "'.");
        }
        try (InputStream in = UiRoutes.class.getClassLoader().getResourceAsStream("viewer/" + path)) {
            if (in == null) {
                throw ViewerErrors.notFound("No asset '" + path + "'.");
            }
            ctx.status(200);
            ctx.contentType(ContentTypes.of(path));
            ctx.header("Cache-Control", "no-cache");
            ctx.header("X-Content-Type-Options", "nosniff");
            ctx.result(in.readAllBytes());
        }
    }
}
