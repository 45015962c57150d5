package org.circuittracer.viewer.graph;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashSet;
import java.util.Set;
import org.circuittracer.viewer.ViewerErrors;

/**
 * Graph files for download (docs/viewer.md, "Downloads"): the whole graph, or a pinned subgraph, each a graph file of
 * docs/reference/graph-format.md §2 (Neuronpedia-importable) whose {@code qParams} carry the page's pins, supernodes and
 * link choice, and whose nodes carry the page's labels as {@code clerp} (logit labels are kept: their format is
 * load-bearing).
 *
 * <p>A subgraph holds the pinned nodes and supernode members that are in the graph and the links among them; its
 * {@code metadata.slug} is the given name (default {@code <slug>-subgraph}) and it drops {@code metadata.graph_scores},
 * which describe the whole graph.
 */
public final class GraphExport {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private GraphExport() {
    }

    /**
     * @param request {@code {subgraph: bool, pinnedIds: [...], supernodes: [[label, id, ...]], labels: {id: label},
     *                linkType, clickedId, slug}}
     */
    public static ObjectNode build(LoadedGraph g, JsonNode request) {
        boolean subgraph = request.path("subgraph").asBoolean(false);
        Set<String> pinned = new LinkedHashSet<>();
        JsonNode pins = request.path("pinnedIds");
        if (!pins.isMissingNode() && !pins.isNull() && !pins.isArray()) {
            throw ViewerErrors.badRequest("\"pinnedIds\" must be an array of node ids.");
        }
        pins.forEach(p -> pinned.add(p.asText()));
        JsonNode supernodes = request.path("supernodes");
        if (!supernodes.isMissingNode() && !supernodes.isNull() && !supernodes.isArray()) {
            throw ViewerErrors.badRequest("\"supernodes\" must be an array of [label, id, ...] arrays.");
        }
        Set<String> members = new LinkedHashSet<>(pinned);
        supernodes.forEach(sn -> {
            for (int i = 1; i < sn.size(); i++) {
                members.add(sn.get(i).asText());
            }
        });
        boolean[] keep = new boolean[g.nodeCount()];
        int kept = 0;
        for (int i = 0; i < keep.length; i++) {
            keep[i] = !subgraph || members.contains(g.node(i).path("node_id").asText());
            kept += keep[i] ? 1 : 0;
        }
        if (subgraph && kept == 0) {
            throw ViewerErrors.badRequest("None of the pinned nodes is in graph '" + g.slug() + "'; pin nodes first.");
        }
        ObjectNode root = F.objectNode();
        ObjectNode metadata = g.metadata().deepCopy();
        if (subgraph) {
            String name = request.path("slug").asText("");
            metadata.put("slug", name.isBlank() ? g.slug() + "-subgraph" : name);
            metadata.remove("graph_scores");
        }
        root.set("metadata", metadata);
        ObjectNode q = g.qParams() != null && g.qParams().isObject() ? ((ObjectNode) g.qParams()).deepCopy()
                : F.objectNode();
        ArrayNode qp = q.putArray("pinnedIds");
        pinned.stream().filter(id -> g.indexOf(id) >= 0).forEach(qp::add);
        q.set("supernodes", supernodes.isArray() ? supernodes.deepCopy() : F.arrayNode());
        q.put("linkType", request.path("linkType").asText(q.path("linkType").asText("both")));
        String clicked = request.path("clickedId").asText("");
        q.put("clickedId", subgraph && !members.contains(clicked) ? "" : clicked);
        if (!q.has("sg_pos")) {
            q.put("sg_pos", "");
        }
        q.remove("clerps"); // the labels are in the nodes' clerp now
        root.set("qParams", q);
        JsonNode labels = request.path("labels");
        ArrayNode nodes = root.putArray("nodes");
        for (int i = 0; i < keep.length; i++) {
            if (!keep[i]) {
                continue;
            }
            ObjectNode n = g.node(i);
            JsonNode label = labels.get(n.path("node_id").asText());
            if (label != null && label.isTextual() && g.kind(i) != NodeKind.LOGIT) {
                n = n.deepCopy();
                n.put("clerp", label.asText());
            }
            nodes.add(n);
        }
        ArrayNode links = root.putArray("links");
        for (int l = 0; l < g.linkCount(); l++) {
            if (keep[g.source(l)] && keep[g.target(l)]) {
                ObjectNode o = links.addObject();
                o.put("source", g.node(g.source(l)).path("node_id").asText());
                o.put("target", g.node(g.target(l)).path("node_id").asText());
                o.put("weight", g.weight(l));
                g.putHeadLoadings(l, o);
            }
        }
        return root;
    }
}
