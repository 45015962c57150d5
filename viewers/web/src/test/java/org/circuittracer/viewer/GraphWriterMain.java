package org.circuittracer.viewer;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.circuittracer.attribution.export.GraphIndex;
import org.circuittracer.viewer.files.ServedDirectory;
import org.circuittracer.viewer.graph.GraphStore;

/**
 * Child process of {@link GraphWriteCrashTest}: rewrites a graph file through the viewer's {@code /save_graph} path
 * ({@link GraphStore#replaceQParams}: backup, then the graph) and the graph index ({@link GraphIndex#upsert}) in a
 * loop, numbering the writes from {@code args[2]} and announcing each before it starts, until it is killed.
 */
public final class GraphWriterMain {

    private GraphWriterMain() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        String slug = args[1];
        GraphStore graphs = new GraphStore(new ServedDirectory(dir, "graph directory"));
        for (long n = Long.parseLong(args[2]); ; n++) {
            System.out.println("writing " + n);
            System.out.flush();
            ObjectNode q = JsonNodeFactory.instance.objectNode();
            q.put("write", n);
            q.put("padding", "x".repeat(10_000) + n); // a longer write: a wider window to be killed in
            graphs.replaceQParams(slug, q);
            ObjectNode metadata = JsonNodeFactory.instance.objectNode();
            metadata.put("slug", slug);
            metadata.put("write", n);
            GraphIndex.upsert(dir, metadata);
        }
    }
}
