package org.circuittracer.viewer.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.viewer.ViewerErrors;
import org.circuittracer.viewer.files.ByteRange;
import org.circuittracer.viewer.files.ServedDirectory;
import org.circuittracer.viewer.graph.GraphStore;

/**
 * The reference server's routes (docs/reference/graph-format.md §5.2), so graph directories and pages of either tool work with the
 * other: {@code /data/*} and {@code /graph_data/*} (the graph directory), {@code /features/*} (raw feature files with
 * byte ranges), {@code POST /save_graph/<slug>}. Paths are percent-decoded once and confined to their directory.
 */
final class DataRoutes {

    /** Data files above this are gzipped when the client accepts it (the reference's threshold). */
    static final long DATA_GZIP_ABOVE = 1L << 20;
    /** Body limit of {@code /save_graph}: it carries only the view state. */
    static final long SAVE_GRAPH_LIMIT = 1L << 20;

    private final GraphStore graphs;
    private final ServedDirectory features;

    DataRoutes(GraphStore graphs, ServedDirectory features) {
        this.graphs = graphs;
        this.features = features;
    }

    void register(RoutesConfig routes) {
        routes.get("/data/<rest>", ctx -> data(ctx, "/data/"));
        routes.get("/graph_data/<rest>", ctx -> data(ctx, "/graph_data/"));
        routes.get("/features/<rest>", ctx -> feature(ctx, true));
        routes.head("/features/<rest>", ctx -> feature(ctx, false));
        routes.post("/save_graph/<rest>", this::saveGraph);
    }

    private void data(Context ctx, String prefix) throws IOException {
        Path file = graphs.directory().resolveFile(Http.rawPathAfter(ctx, prefix));
        // size and bytes from one open file: a file replaced (renamed over) meanwhile is sent whole, old or new,
        // never the new one's bytes under the old one's Content-Length
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            sendData(ctx, ch);
        }
    }

    private static void sendData(Context ctx, FileChannel ch) throws IOException {
        long size = ch.size();
        ctx.status(200);
        ctx.contentType("application/json");
        ctx.header("Cache-Control", "no-store");
        ctx.header("Access-Control-Allow-Origin", "*");
        ctx.header("Vary", "Accept-Encoding");
        if (size > DATA_GZIP_ABOVE && Http.acceptsGzip(ctx)) {
            ctx.header("Content-Encoding", "gzip");
            try (InputStream in = Channels.newInputStream(ch);
                 OutputStream out = new GZIPOutputStream(ctx.res().getOutputStream(), 1 << 16)) {
                in.transferTo(out);
            }
        } else {
            ctx.header("Content-Length", Long.toString(size));
            OutputStream out = ctx.res().getOutputStream();
            long sent = 0;
            while (sent < size) {
                long n = ch.transferTo(sent, size - sent, Channels.newChannel(out));
                if (n <= 0) {
                    break; // the file shrank under us (rewritten in place): the client sees a short body
                }
                sent += n;
            }
            out.flush();
        }
    }

    /** Raw bytes, never Content-Encoding: the viewer inflates {@code index.json.gz} and records itself. */
    private void feature(Context ctx, boolean body) throws IOException {
        if (features == null) {
            throw ViewerErrors.notFound("This server has no features directory; start it with one to serve feature "
                    + "files.");
        }
        Path file = features.resolveFile(Http.rawPathAfter(ctx, "/features/"));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            sendFeature(ctx, ch, body);
        }
    }

    private static void sendFeature(Context ctx, FileChannel ch, boolean body) throws IOException {
        long size = ch.size();
        ctx.contentType("application/octet-stream");
        ctx.header("Accept-Ranges", "bytes");
        ctx.header("Access-Control-Allow-Origin", "*");
        String range = ctx.header("Range");
        long start = 0;
        long length = size;
        if (range != null) {
            ByteRange r = ByteRange.parse(range, size);
            start = r.start();
            length = r.length();
            ctx.status(206);
            ctx.header("Content-Range", r.contentRange());
        } else {
            ctx.status(200);
        }
        ctx.header("Content-Length", Long.toString(length));
        if (!body) {
            return;
        }
        OutputStream out = ctx.res().getOutputStream();
        long sent = 0;
        while (sent < length) {
            long n = ch.transferTo(start + sent, length - sent, Channels.newChannel(out));
            if (n <= 0) {
                break;
            }
            sent += n;
        }
        out.flush();
    }

    private void saveGraph(Context ctx) {
        String rest = Http.rawPathAfter(ctx, "/save_graph/");
        String slug = "";
        for (String segment : rest.split("/")) {
            if (!segment.isEmpty()) {
                slug = segment; // the last non-empty segment, as the reference
            }
        }
        slug = ServedDirectory.percentDecode(slug);
        GraphStore.checkSlug(slug);
        JsonNode body = Http.jsonBody(ctx, SAVE_GRAPH_LIMIT);
        JsonNode q = body.get("qParams");
        if (q == null || !q.isObject()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The body needs a \"qParams\" object "
                    + "(docs/reference/graph-format.md §5.4).");
        }
        graphs.replaceQParams(slug, q);
        Http.json(ctx, Map.of("ok", true));
    }
}
