package org.circuittracer.viewer.graph;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * A parsed graph file (docs/reference/graph-format.md §2), held compactly: node objects as written (unknown fields kept), links as
 * parallel arrays. Links whose endpoints are not nodes are dropped, as the reference viewer does; a repeated node id
 * resolves to the later node. A link's attention-head loadings ({@code head_loadings}, {@code head_bypass}: issue 20,
 * docs/viewer.md "Attention heads") are kept, compactly, for the links that carry them, and its QK attribution
 * ({@code qk}, a list of objects, one per explained head) as the file's JSON. Immutable after parsing.
 */
public final class LoadedGraph {

    private static final Pattern EMBEDDING_ID = Pattern.compile("E_(-?\\d+)_(\\d+)");

    private final String slug;
    private final ObjectNode metadata;
    private final JsonNode qParams;
    private final List<ObjectNode> nodes;
    private final Map<String, Integer> byId;
    private final NodeKind[] kinds;
    private final double[] influence;
    private final int[] sources;
    private final int[] targets;
    private final float[] weights;
    /** Per link its stored head loadings as flat (layer, head, loading) triples, or null; null when no link has any. */
    private final float[][] headLoadings;
    /** Per link its per-layer bypass, or null; null when no link has one. */
    private final float[][] headBypass;
    /** Per link its {@code qk} entries (objects, as the file has them), or null; null when no link has any. */
    private final ArrayNode[] qk;

    private LoadedGraph(String slug, ObjectNode metadata, JsonNode qParams, List<ObjectNode> nodes,
                        Map<String, Integer> byId, int[] sources, int[] targets, float[] weights,
                        float[][] headLoadings, float[][] headBypass, ArrayNode[] qk) {
        this.slug = slug;
        this.metadata = metadata;
        this.qParams = qParams;
        this.nodes = nodes;
        this.byId = byId;
        this.sources = sources;
        this.targets = targets;
        this.weights = weights;
        this.headLoadings = headLoadings;
        this.headBypass = headBypass;
        this.qk = qk;
        this.kinds = new NodeKind[nodes.size()];
        this.influence = new double[nodes.size()];
        for (int i = 0; i < nodes.size(); i++) {
            kinds[i] = NodeKind.of(nodes.get(i).path("feature_type").asText(null));
            JsonNode inf = nodes.get(i).get("influence");
            influence[i] = inf != null && inf.isNumber() ? inf.asDouble() : Double.NaN;
        }
    }

    /**
     * @throws CircuitTracerException MALFORMED_FILE when a required part is missing or of the wrong type
     */
    public static LoadedGraph parse(String slug, JsonNode root) {
        if (root == null || !root.isObject()) {
            throw malformed(slug, "the top level is not a JSON object");
        }
        JsonNode metadata = root.get("metadata");
        if (metadata == null || !metadata.isObject()) {
            throw malformed(slug, "it has no \"metadata\" object");
        }
        JsonNode nodeArray = root.get("nodes");
        JsonNode linkArray = root.get("links");
        if (nodeArray == null || !nodeArray.isArray() || linkArray == null || !linkArray.isArray()) {
            throw malformed(slug, "it needs \"nodes\" and \"links\" arrays");
        }
        Map<String, Integer> byId = new HashMap<>();
        List<ObjectNode> nodes = new ArrayList<>(nodeArray.size());
        for (JsonNode n : nodeArray) {
            if (!n.isObject() || !n.path("node_id").isTextual()) {
                throw malformed(slug, "node " + nodes.size() + " has no \"node_id\" string");
            }
            String id = n.get("node_id").asText();
            Integer previous = byId.get(id);
            if (previous != null) {
                nodes.set(previous, (ObjectNode) n); // the later node wins, as in the reference viewer
            } else {
                byId.put(id, nodes.size());
                nodes.add((ObjectNode) n);
            }
        }
        int m = linkArray.size();
        int[] s = new int[m];
        int[] t = new int[m];
        float[] w = new float[m];
        float[][] loadings = null;
        float[][] bypass = null;
        ArrayNode[] qk = null;
        int k = 0;
        for (JsonNode l : linkArray) {
            Integer a = byId.get(l.path("source").asText(""));
            Integer b = byId.get(l.path("target").asText(""));
            JsonNode weight = l.get("weight");
            if (a == null || b == null || weight == null || !weight.isNumber()) {
                continue;
            }
            s[k] = a;
            t[k] = b;
            w[k] = weight.floatValue();
            float[] heads = headTriples(l.get("head_loadings"));
            if (heads != null) {
                loadings = loadings == null ? new float[m][] : loadings;
                loadings[k] = heads;
            }
            float[] layers = numbers(l.get("head_bypass"));
            if (layers != null) {
                bypass = bypass == null ? new float[m][] : bypass;
                bypass[k] = layers;
            }
            ArrayNode entries = objects(l.get("qk"));
            if (entries != null) {
                qk = qk == null ? new ArrayNode[m] : qk;
                qk[k] = entries;
            }
            k++;
        }
        JsonNode q = root.get("qParams");
        return new LoadedGraph(slug, (ObjectNode) metadata, q == null || q.isNull() ? JsonNodeFactory.instance
                .objectNode() : q, nodes, byId, java.util.Arrays.copyOf(s, k), java.util.Arrays.copyOf(t, k),
                java.util.Arrays.copyOf(w, k), loadings == null ? null : java.util.Arrays.copyOf(loadings, k),
                bypass == null ? null : java.util.Arrays.copyOf(bypass, k),
                qk == null ? null : java.util.Arrays.copyOf(qk, k));
    }

    /**
     * A link's {@code qk}: its entries that are JSON objects, as the file has them (the page checks their fields);
     * null when it is not an array or holds no object.
     */
    private static ArrayNode objects(JsonNode array) {
        if (array == null || !array.isArray()) {
            return null;
        }
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        for (JsonNode e : array) {
            if (e.isObject()) {
                out.add(e);
            }
        }
        return out.isEmpty() ? null : out;
    }

    /**
     * A link's {@code head_loadings} ({@code [[layer, head, loading], ...]}) as flat triples; entries that are not
     * three numbers with a whole, non-negative layer and head are left out. Null when there is no such array.
     */
    private static float[] headTriples(JsonNode array) {
        if (array == null || !array.isArray()) {
            return null;
        }
        float[] out = new float[3 * array.size()];
        int n = 0;
        for (JsonNode e : array) {
            if (e.isArray() && e.size() == 3 && isIndex(e.get(0)) && isIndex(e.get(1)) && e.get(2).isNumber()) {
                out[n++] = e.get(0).intValue();
                out[n++] = e.get(1).intValue();
                out[n++] = e.get(2).floatValue();
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    private static boolean isIndex(JsonNode v) {
        return v.isNumber() && v.canConvertToInt() && v.doubleValue() == v.intValue() && v.intValue() >= 0
                && v.intValue() < (1 << 24); // exact as a float
    }

    /** A link's {@code head_bypass} (one number per layer); null when it is not an array of numbers. */
    private static float[] numbers(JsonNode array) {
        if (array == null || !array.isArray()) {
            return null;
        }
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            if (!array.get(i).isNumber()) {
                return null;
            }
            out[i] = array.get(i).floatValue();
        }
        return out;
    }

    public String slug() {
        return slug;
    }

    public ObjectNode metadata() {
        return metadata;
    }

    public JsonNode qParams() {
        return qParams;
    }

    public int nodeCount() {
        return nodes.size();
    }

    public int linkCount() {
        return sources.length;
    }

    public ObjectNode node(int i) {
        return nodes.get(i);
    }

    public NodeKind kind(int i) {
        return kinds[i];
    }

    /** The node's cumulative influence, NaN when the file has none. */
    public double influence(int i) {
        return influence[i];
    }

    /** The node's index, or -1. */
    public int indexOf(String nodeId) {
        Integer i = byId.get(nodeId);
        return i == null ? -1 : i;
    }

    public int source(int link) {
        return sources[link];
    }

    public int target(int link) {
        return targets[link];
    }

    public float weight(int link) {
        return weights[link];
    }

    /** Whether any link of the file carries head loadings or a head bypass. */
    public boolean hasHeadLoadings() {
        return headLoadings != null || headBypass != null;
    }

    /** Whether any link of the file carries QK attribution ({@code qk}). */
    public boolean hasQk() {
        return qk != null;
    }

    /**
     * Writes the link's {@code head_loadings}, {@code head_bypass} and {@code qk} into {@code out} as the file has
     * them (minus malformed entries); writes nothing for a link without them.
     */
    public void putHeadLoadings(int link, ObjectNode out) {
        float[] heads = headLoadings == null ? null : headLoadings[link];
        if (heads != null) {
            ArrayNode array = out.putArray("head_loadings");
            for (int i = 0; i < heads.length; i += 3) {
                ArrayNode e = array.addArray();
                e.add((int) heads[i]);
                e.add((int) heads[i + 1]);
                e.add(heads[i + 2]);
            }
        }
        float[] layers = headBypass == null ? null : headBypass[link];
        if (layers != null) {
            ArrayNode array = out.putArray("head_bypass");
            for (float b : layers) {
                array.add(b);
            }
        }
        ArrayNode entries = qk == null ? null : qk[link];
        if (entries != null) {
            out.set("qk", entries);
        }
    }

    /**
     * The prompt's token ids, read from the embedding node ids {@code E_{token}_{position}} (every position has one).
     *
     * @throws CircuitTracerException INVALID_ARGUMENT when a position has no embedding node
     */
    public int[] promptTokenIds() {
        int length = metadata.path("prompt_tokens").size();
        int[] ids = new int[length];
        java.util.Arrays.fill(ids, -1);
        for (int i = 0; i < nodes.size(); i++) {
            if (kinds[i] != NodeKind.EMBEDDING) {
                continue;
            }
            Matcher m = EMBEDDING_ID.matcher(nodes.get(i).path("node_id").asText());
            if (m.matches()) {
                int p = Integer.parseInt(m.group(2));
                if (p < length) {
                    ids[p] = Integer.parseInt(m.group(1));
                }
            }
        }
        for (int p = 0; p < length; p++) {
            if (ids[p] < 0) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Graph '" + slug + "' has no "
                        + "embedding node for position " + p + ", so its prompt's token ids are unknown; re-export it.");
            }
        }
        return ids;
    }

    private static CircuitTracerException malformed(String slug, String what) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "Graph file '" + slug + ".json' is not a "
                + "graph: " + what + " (docs/reference/graph-format.md §2). Re-export it.");
    }
}
