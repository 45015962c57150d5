package org.circuittracer.attribution.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.circuittracer.attribution.attention.QkLinks;
import org.circuittracer.attribution.attention.QkPass;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.QkAttribution;

/**
 * QK attribution in a graph JSON (docs/attention.md): on each explained link a {@code qk} list with the head's score
 * and its largest terms in Neuronpedia's {@code qk_tracing_results} shape, and {@code metadata.qk}.
 */
public final class QkJson {

    /** The metadata field: {@code {links, top_k}}. */
    public static final String FIELD = "qk";

    private QkJson() {
    }

    /**
     * Adds the results to the links of {@code json} (a graph JSON built by {@link GraphJsonExporter#build}); a link
     * the JSON does not hold is skipped. Returns how many links were annotated.
     */
    public static int annotate(ObjectNode json, AttributionGraph graph, List<QkLinks.Choice> choices,
                               List<QkPass.GraphQk> results, int topK) {
        List<Node> nodes = graph.nodes();
        Map<String, ObjectNode> links = new HashMap<>();
        for (JsonNode link : json.get("links")) {
            links.put(link.get("target").asText() + "\u0000" + link.get("source").asText(), (ObjectNode) link);
        }
        int annotated = 0;
        for (int i = 0; i < choices.size(); i++) {
            QkLinks.Choice choice = choices.get(i);
            ObjectNode link = links.get(GraphJsonExporter.nodeId(graph, nodes.get(choice.target())) + "\u0000"
                    + GraphJsonExporter.nodeId(graph, nodes.get(choice.source())));
            if (link == null) {
                continue;
            }
            ArrayNode entries = link.has(FIELD) ? (ArrayNode) link.get(FIELD) : link.putArray(FIELD);
            entries.add(describe(graph, results.get(i), topK));
            annotated++;
        }
        ObjectNode described = ((ObjectNode) json.get("metadata")).putObject(FIELD);
        described.put("links", annotated);
        described.put("top_k", topK);
        return annotated;
    }

    /**
     * One explained score: layer, head, query, key, score, logit, constant and the {@code topK} largest pairwise and
     * marginal terms as {@code qk_tracing_results} (node ids as the graph JSON writes them).
     */
    public static ObjectNode describe(AttributionGraph graph, QkPass.GraphQk result, int topK) {
        List<Node> nodes = graph.nodes();
        QkAttribution split = result.split();
        ObjectNode entry = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        entry.put("layer", split.query().layer());
        entry.put("head", split.query().head());
        entry.put("query", split.query().query());
        entry.put("key", split.query().key());
        entry.put("score", (double) split.score());
        entry.put("logit", (double) split.logit());
        entry.put("constant", (double) split.constant());
        ObjectNode traced = entry.putObject("qk_tracing_results");
        ArrayNode pairs = traced.putArray("pair_wise_contributors");
        for (QkPass.GraphQk.Pair p : result.topPairs(topK)) {
            pairs.addArray().add(GraphJsonExporter.nodeId(graph, nodes.get(p.queryNode())))
                    .add(GraphJsonExporter.nodeId(graph, nodes.get(p.keyNode()))).add((double) p.attribution());
        }
        ArrayNode queries = traced.putArray("top_q_marginal_contributors");
        result.topQueryMarginals(topK).forEach(m -> queries.addArray()
                .add(GraphJsonExporter.nodeId(graph, nodes.get(m.node()))).add((double) m.attribution()));
        ArrayNode keys = traced.putArray("top_k_marginal_contributors");
        result.topKeyMarginals(topK).forEach(m -> keys.addArray()
                .add(GraphJsonExporter.nodeId(graph, nodes.get(m.node()))).add((double) m.attribution()));
        return entry;
    }
}
