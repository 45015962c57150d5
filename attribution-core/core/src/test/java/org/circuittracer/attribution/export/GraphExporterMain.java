package org.circuittracer.attribution.export;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.EdgeMatrix;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;

/**
 * Child process of {@link GraphExportCrashTest}: exports one graph with {@link GraphJsonExporter#export} (the graph
 * through {@code AtomicFiles}, then its entry of {@code graph-metadata.json} through {@link GraphIndex#upsert}) in a
 * loop, numbering the writes from {@code args[2]} (written as {@code metadata.info.create_time_ms}) and announcing
 * each before it starts, until it is killed. {@code args[1]} is the slug.
 */
public final class GraphExporterMain {

    /** Feature nodes of the graph: about 0.8 MB of JSON, so that a write is long enough to be killed in. */
    static final int FEATURES = 1_500;

    private GraphExporterMain() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        String slug = args[1];
        AttributionGraph graph = graph();
        ExportOptions options = options(slug);
        for (long n = Long.parseLong(args[2]); ; n++) {
            System.out.println("writing " + n);
            System.out.flush();
            GraphJsonExporter.export(graph, options.withCreateTimeMs(n), dir);
        }
    }

    /** Two layers, two positions, {@link #FEATURES} features that all feed the logit, each fed by the first token. */
    static AttributionGraph graph() {
        ModelConfig config = new ModelConfig("toy", "LlamaForCausalLM", 2, 4, 1, 1, 4, 8, 10, 16);
        List<Node.FeatureNode> features = new ArrayList<>();
        for (int i = 0; i < FEATURES; i++) {
            features.add(new Node.FeatureNode(i % 2, (i / 2) % 2, i, 1f + i % 7, i));
        }
        int n = FEATURES + 4 + 2 + 1; // features, 4 error nodes, 2 tokens, the logit
        float[] dense = new float[n * n];
        for (int i = 0; i < FEATURES; i++) {
            dense[(n - 1) * n + i] = 0.5f + (i % 13) / 13f; // logit <- feature
            dense[i * n + FEATURES + 4] = 1f; // feature <- token 0
        }
        return new AttributionGraph(config, TokenSequence.of(1, 3), "ab", features, features,
                List.of(new Node.LogitNode(1, 7, "\"q\"", 1f)), EdgeMatrix.fromDense(n, dense), 10, "toy-scan");
    }

    /** Everything kept, so that the file is large. */
    static ExportOptions options(String slug) {
        return ExportOptions.of(slug, List.of("a", "b")).withThresholds(1.0, 1.0);
    }

    /** An entry of another graph, which every upsert must keep. */
    static ObjectNode otherEntry() {
        ObjectNode m = JsonNodeFactory.instance.objectNode();
        m.put("slug", "other");
        m.put("scan", "toy-scan");
        m.put("prompt", "kept");
        return m;
    }
}
