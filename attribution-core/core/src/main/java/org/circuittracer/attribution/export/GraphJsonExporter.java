package org.circuittracer.attribution.export;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.circuittracer.attribution.attention.GraphHeadLoadings;
import org.circuittracer.attribution.io.AtomicFiles;
import org.circuittracer.attribution.prune.GraphPruning;
import org.circuittracer.attribution.prune.PruneResult;
import org.circuittracer.attribution.prune.GraphScores;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.EdgeMatrix;
import org.circuittracer.spi.graph.Node;

/**
 * {@code create_graph_files} (docs/reference/algorithm.md §6, docs/reference/graph-format.md §2-3): prunes a graph with
 * {@link GraphPruning#prune(AttributionGraph, double, double)}, builds the node and link objects, and writes
 * {@code <dir>/<slug>.json} and the index {@code <dir>/graph-metadata.json}, both atomically.
 *
 * <p>Node ids, {@code feature} values (Cantor pairing, as {@code long}), {@code jsNodeId}s, logit labels and the node
 * order are those of the reference, with one exception that keeps every node: an error node whose reference id
 * {@code 0_{L}_{p}} equals a kept layer-0 feature's id is written as {@code 0_{L}_{p}_error} (unless
 * {@link ExportOptions#strictNodeIds()}, which fails instead). Links are every kept stored edge between kept nodes, ordered by target then source
 * in graph order, with {@code weight = A[t, s]}; zero weights are never emitted. Features and errors that end up in
 * no link are dropped; every embedding and logit stays. {@code influence} is the cumulative influence of the
 * unpruned graph ({@code null} for logits); non-finite values are written as {@code null}, and links with a
 * non-finite weight are left out with a warning rather than failing a finished computation.
 */
public final class GraphJsonExporter {

    /** The file name of the graph index in a data directory. */
    public static final String INDEX_FILE = "graph-metadata.json";
    /** {@code metadata.schema_version}: feature ids are Cantor-paired. */
    public static final int SCHEMA_VERSION = 1;
    /**
     * {@code metadata.graph_scores}: {@code {replacement, completeness}} of the unpruned graph ({@code GraphScores},
     * docs/reference/algorithm.md §5.3); null for a score that is not a number.
     */
    public static final String SCORES_FIELD = "graph_scores";

    /** The metadata field describing the links' head loadings: {@code {layers, heads, top_k}}. */
    public static final String HEAD_LOADINGS_FIELD = "head_loadings";
    /** {@code metadata.info.generator.name}. */
    public static final String GENERATOR_NAME = "circuit-tracer-jvm";

    public static final String FEATURE = "cross layer transcoder";
    public static final String ERROR = "mlp reconstruction error";
    public static final String EMBEDDING = "embedding";
    public static final String LOGIT = "logit";

    static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Suffix of an error node's id when its reference id is taken by a kept layer-0 feature. */
    public static final String RENAMED_ERROR_SUFFIX = "_error";

    /**
     * An error node written under another id than the reference's, because a kept layer-0 feature has that id.
     *
     * @param referenceId the reference's id {@code 0_{L}_{p}}, which the feature keeps
     * @param writtenId   the id in the file, {@code 0_{L}_{p}_error}
     * @param layer       the error node's layer
     * @param position    the error node's position
     */
    public record RenamedNode(String referenceId, String writtenId, int layer, int position) {
    }

    /**
     * What an export wrote.
     *
     * @param graphFile {@code <dir>/<slug>.json}
     * @param indexFile {@code <dir>/graph-metadata.json}
     * @param nodes     nodes in the file
     * @param links     links in the file
     * @param renamed   error nodes written under a non-reference id (see {@link Built#renamed()})
     * @param warnings  problems found while writing that did not stop it, one line each (see {@link Built#warnings()})
     * @param scores    the unpruned graph's scores, as written to {@code metadata.graph_scores}
     */
    public record Result(Path graphFile, Path indexFile, int nodes, int links, List<RenamedNode> renamed,
                         List<String> warnings, GraphScores.Scores scores) {
        public Result {
            renamed = List.copyOf(renamed);
            warnings = List.copyOf(warnings);
            java.util.Objects.requireNonNull(scores, "scores");
        }
    }

    /**
     * The graph JSON and what had to be adjusted to write it.
     *
     * @param json     the top-level object ({@code metadata}, {@code qParams}, {@code nodes}, {@code links})
     * @param renamed  error nodes whose reference id {@code 0_{L}_{p}} equals a kept layer-0 feature's id, written as
     *                 {@code 0_{L}_{p}_error} (links follow); empty in strict mode, which fails instead
     * @param warnings one line per kind of adjustment (renamed ids, links left out), saying why and what to do; empty
     *                 when the file is exactly what the reference would write
     * @param scores   the unpruned graph's replacement and completeness scores, computed once for the metadata
     */
    public record Built(ObjectNode json, List<RenamedNode> renamed, List<String> warnings,
                        GraphScores.Scores scores) {
        public Built {
            renamed = List.copyOf(renamed);
            warnings = List.copyOf(warnings);
        }
    }

    private GraphJsonExporter() {
    }

    /**
     * Exports into {@code directory} (created if missing): writes {@code <slug>.json} and adds or replaces the
     * slug's entry of {@code graph-metadata.json}, keeping the other entries in order.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT for bad options, or a node-id collision in strict mode;
     *                                MALFORMED_FILE when an existing index is not a graph index; FILE_NOT_FOUND when
     *                                writing fails
     */
    public static Result export(AttributionGraph graph, ExportOptions options, Path directory) {
        Built built = build(graph, options);
        Path graphFile = directory.resolve(options.slug() + ".json");
        byte[] bytes;
        try {
            bytes = MAPPER.writeValueAsBytes(built.json());
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Cannot serialise graph '" + options.slug()
                    + "': " + e.getMessage(), e);
        }
        AtomicFiles.write(graphFile, bytes);
        Path index = GraphIndex.upsert(directory, (ObjectNode) built.json().get("metadata"));
        return new Result(graphFile, index, built.json().get("nodes").size(), built.json().get("links").size(),
                built.renamed(), built.warnings(), built.scores());
    }

    /** The graph JSON, without writing anything. */
    public static Built build(AttributionGraph graph, ExportOptions options) {
        String scan = checkedScan(graph, options);
        PruneResult pruned = GraphPruning.prune(graph, options.nodeThreshold(), options.edgeThreshold());
        Selection selection = select(graph, pruned);
        String[] ids = new String[graph.size()];
        List<RenamedNode> renamed = assignIds(graph, graph.nodes(), selection.emitted(), ids, options.strictNodeIds());

        List<String> warnings = new ArrayList<>();
        if (!renamed.isEmpty()) {
            warnings.add(renamedWarning(renamed));
        }
        if (selection.nonFinite() > 0) {
            warnings.add(nonFiniteWarning(selection.nonFinite()));
        }
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        GraphScores.Scores scores = GraphScores.of(graph, pruned.influence());
        root.set("metadata", metadata(graph, options, scan, scores));
        ObjectNode q = root.putObject("qParams");
        q.putArray("pinnedIds");
        q.putArray("supernodes");
        q.put("linkType", "both");
        q.put("clickedId", "");
        q.put("sg_pos", "");
        root.set("nodes", nodeArray(graph, selection.emitted(), ids, pruned.cumulativeScores()));
        GraphHeadLoadings heads = null;
        if (options.headLoadings() != null) {
            heads = headLoadings(graph, pruned, options.headLoadings());
        }
        if (heads != null) {
            ObjectNode described = ((ObjectNode) root.get("metadata")).putObject(HEAD_LOADINGS_FIELD);
            described.put("layers", heads.loadings().layers());
            described.put("heads", heads.loadings().heads());
            described.put("top_k", options.headLoadings().topK());
        }
        root.set("links", links(graph, pruned, ids, heads, options.headLoadings()));
        return new Built(root, renamed, warnings, scores);
    }

    /** The scan the metadata names, after checking that the options fit the graph. */
    private static String checkedScan(AttributionGraph graph, ExportOptions options) {
        int length = graph.tokens().length();
        if (options.promptTokens().size() != length) {
            throw invalid("promptTokens has " + options.promptTokens().size() + " entries but the prompt has " + length
                    + " tokens; give one decoded string per position.");
        }
        String scan = options.scan() != null ? options.scan() : graph.scan();
        if (scan.isEmpty()) {
            throw invalid("The graph has no scan (transcoder-set identifier) and none was given; the viewer needs "
                    + "one to find feature details. Pass a scan in the export options.");
        }
        return scan;
    }

    /** The nodes the file holds, and how many edges were left out for a non-finite weight. */
    private record Selection(boolean[] emitted, int nonFinite) {
    }

    /** Embeddings and logits always; other nodes when kept and linked by a kept, finite, non-zero edge. */
    private static Selection select(AttributionGraph graph, PruneResult pruned) {
        int n = graph.size();
        boolean[] linked = new boolean[n];
        int[] nonFinite = {0};
        EdgeMatrix a = graph.adjacency();
        a.forEachRow((t, columns, weights, from, to) -> {
            int at = a.rowOffset(t) - from;
            for (int i = from; i < to; i++) {
                if (!Float.isFinite(weights[i])) {
                    nonFinite[0]++;
                } else if (keepsLink(pruned, t, columns[i], at + i, weights[i])) {
                    linked[columns[i]] = true;
                    linked[t] = true;
                }
            }
        });
        boolean[] keep = pruned.nodeMask();
        int firstToken = graph.tokenIndex(0);
        boolean[] emitted = new boolean[n];
        for (int i = 0; i < n; i++) {
            emitted[i] = i >= firstToken || (keep[i] && linked[i]);
        }
        return new Selection(emitted, nonFinite[0]);
    }

    /** Whether the file keeps edge entry {@code edge}, s to t: pruned in, between kept nodes, finite, non-zero. */
    private static boolean keepsLink(PruneResult pruned, int t, int s, int edge, float weight) {
        return pruned.keepsNode(t) && pruned.keepsNode(s) && pruned.keepsEdge(edge) && weight != 0
                && Float.isFinite(weight);
    }

    /** The kept links, split over heads. */
    private static GraphHeadLoadings headLoadings(AttributionGraph graph, PruneResult pruned,
                                                  HeadLoadingExport export) {
        List<int[]> kept = new ArrayList<>();
        EdgeMatrix a = graph.adjacency();
        a.forEachRow((t, columns, weights, from, to) -> {
            if (!pruned.keepsNode(t)) {
                return;
            }
            int at = a.rowOffset(t) - from;
            for (int i = from; i < to; i++) {
                if (keepsLink(pruned, t, columns[i], at + i, weights[i])) {
                    kept.add(new int[] {t, columns[i]});
                }
            }
        });
        return export.compute().of(kept.stream().mapToInt(e -> e[0]).toArray(),
                kept.stream().mapToInt(e -> e[1]).toArray());
    }

    private static ArrayNode links(AttributionGraph graph, PruneResult pruned, String[] ids, GraphHeadLoadings heads,
                                   HeadLoadingExport export) {
        ArrayNode links = JsonNodeFactory.instance.arrayNode();
        EdgeMatrix a = graph.adjacency();
        var edgeOf = heads == null ? null : heads.lookup();
        a.forEachRow((t, columns, weights, from, to) -> {
            if (!pruned.keepsNode(t)) {
                return;
            }
            int at = a.rowOffset(t) - from;
            for (int i = from; i < to; i++) {
                if (keepsLink(pruned, t, columns[i], at + i, weights[i])) {
                    ObjectNode link = links.addObject();
                    link.put("source", ids[columns[i]]);
                    link.put("target", ids[t]);
                    link.put("weight", (double) weights[i]);
                    if (heads != null) {
                        writeHeads(link, heads, edgeOf.apply(t, columns[i]), export.topK());
                    }
                }
            }
        });
        return links;
    }

    /** {@code head_loadings: [[layer, head, loading], …]} and {@code head_bypass: [per layer]} on one link. */
    private static void writeHeads(ObjectNode link, GraphHeadLoadings heads, int edge, int topK) {
        if (edge < 0) {
            return;
        }
        ArrayNode top = link.putArray("head_loadings");
        for (GraphHeadLoadings.HeadShare share : heads.topHeads(edge, topK)) {
            top.addArray().add(share.layer()).add(share.head()).add((double) share.loading());
        }
        ArrayNode bypass = link.putArray("head_bypass");
        for (int m = 0; m < heads.loadings().layers(); m++) {
            bypass.add((double) heads.loadings().bypass(edge, m));
        }
    }

    private static ArrayNode nodeArray(AttributionGraph graph, boolean[] emitted, String[] ids, double[] cumulative) {
        ArrayNode array = JsonNodeFactory.instance.arrayNode();
        List<Node> nodes = graph.nodes();
        int firstToken = graph.tokenIndex(0);
        for (int i = 0; i < nodes.size(); i++) {
            if (emitted[i]) {
                Node node = nodes.get(i);
                array.add(nodeObject(graph, node, ids[i], i < firstToken || node instanceof Node.TokenNode
                        ? cumulative[i] : Double.NaN, graph.logits().size() > 0 && i == graph.logitIndex(0)));
            }
        }
        return array;
    }

    private static String nonFiniteWarning(int nonFinite) {
        return nonFinite + " edge" + (nonFinite == 1 ? " has" : "s have") + " a non-finite weight (NaN or "
                + "infinity); " + (nonFinite == 1 ? "it is" : "they are") + " left out of the graph JSON, which "
                + "cannot hold them (the unpruned graph file, --graph-output-path, keeps them). This points at an "
                + "overflow: attribute again in float32 (--dtype float32).";
    }

    /**
     * Fills {@code ids} with each node's reference id, except an emitted error node whose id an emitted layer-0
     * feature also has: the feature keeps the reference id and the error node gets {@code 0_{L}_{p}_error}, which no
     * feature, embedding or logit id can equal (those have three parts, or start with {@code E_}).
     */
    private static List<RenamedNode> assignIds(AttributionGraph graph, List<Node> nodes, boolean[] emitted,
                                               String[] ids, boolean strict) {
        Map<String, Integer> owner = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            ids[i] = nodeId(graph, nodes.get(i));
            if (emitted[i] && !(nodes.get(i) instanceof Node.ErrorNode)) {
                Integer previous = owner.putIfAbsent(ids[i], i);
                if (previous != null) {
                    throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Two nodes share the id '" + ids[i]
                            + "': " + describe(nodes.get(previous)) + " and " + describe(nodes.get(i)) + ".");
                }
            }
        }
        List<RenamedNode> renamed = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (!emitted[i] || !(nodes.get(i) instanceof Node.ErrorNode error)) {
                continue;
            }
            Integer feature = owner.get(ids[i]);
            if (feature == null) {
                continue;
            }
            if (strict) {
                throw invalid("Node id collision: " + describe(nodes.get(feature)) + " and " + describe(error)
                        + " both have the reference id '" + ids[i] + "' (an error node's id '0_{layer}_{position}' "
                        + "equals a layer-0 feature's id; docs/formats/graph-files.md). Without strict node ids the "
                        + "error node is written as '" + ids[i] + RENAMED_ERROR_SUFFIX + "' and both nodes are kept.");
            }
            String written = ids[i] + RENAMED_ERROR_SUFFIX;
            renamed.add(new RenamedNode(ids[i], written, error.layer(), error.position()));
            ids[i] = written;
        }
        return renamed;
    }

    private static String renamedWarning(List<RenamedNode> renamed) {
        StringBuilder b = new StringBuilder();
        b.append(renamed.size() == 1 ? "1 error node was" : renamed.size() + " error nodes were")
                .append(" renamed because a layer-0 feature in the graph has the same reference id (0_{layer}_"
                        + "{position}): ");
        int shown = Math.min(renamed.size(), 5);
        for (int k = 0; k < shown; k++) {
            RenamedNode r = renamed.get(k);
            b.append(k == 0 ? "" : ", ").append(r.referenceId()).append(" -> ").append(r.writtenId());
        }
        if (renamed.size() > shown) {
            b.append(", and ").append(renamed.size() - shown).append(" more");
        }
        return b.append(". The features keep their ids; both viewers show both nodes (docs/formats/graph-files.md).")
                .toString();
    }

    private static ObjectNode metadata(AttributionGraph graph, ExportOptions options, String scan,
                                       GraphScores.Scores graphScores) {
        ObjectNode m = JsonNodeFactory.instance.objectNode();
        m.put("slug", options.slug());
        m.put("scan", scan);
        m.putArray("transcoder_list");
        ArrayNode tokens = m.putArray("prompt_tokens");
        options.promptTokens().forEach(tokens::add);
        m.put("prompt", graph.inputString());
        m.put("node_threshold", options.nodeThreshold());
        m.put("schema_version", SCHEMA_VERSION);
        ObjectNode info = m.putObject("info");
        ObjectNode generator = info.putObject("generator");
        generator.put("name", GENERATOR_NAME);
        String version = GraphJsonExporter.class.getPackage().getImplementationVersion();
        generator.put("version", version != null ? version : "dev");
        if (options.createTimeMs() != null) {
            info.put("create_time_ms", options.createTimeMs());
        }
        ObjectNode pruning = m.putObject("pruning_settings");
        pruning.put("node_threshold", options.nodeThreshold());
        pruning.put("edge_threshold", options.edgeThreshold());
        // of the unpruned graph: the file alone cannot give them (its error nodes and links are pruned)
        ObjectNode scores = m.putObject(SCORES_FIELD);
        putFiniteOrNull(scores, "replacement", graphScores.replacement());
        putFiniteOrNull(scores, "completeness", graphScores.completeness());
        return m;
    }

    private static ObjectNode nodeObject(AttributionGraph graph, Node node, String id, double influence,
                                         boolean firstLogit) {
        int layers = graph.model().layers();
        int last = graph.tokens().length() - 1;
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("node_id", id);
        String featureType;
        String layer;
        String jsNodeId;
        long feature;
        double tokenProb = 0.0;
        boolean target = false;
        String clerp = "";
        Double activation = null;
        if (node instanceof Node.FeatureNode x) {
            feature = FeatureIds.pair(x.layer(), x.feature());
            layer = Integer.toString(x.layer());
            jsNodeId = x.layer() + "_" + x.feature() + "-0";
            featureType = FEATURE;
            activation = (double) x.activation();
        } else if (node instanceof Node.ErrorNode x) {
            feature = -1;
            layer = Integer.toString(x.layer());
            jsNodeId = x.layer() + "_" + x.position() + "-0";
            featureType = ERROR;
        } else if (node instanceof Node.TokenNode x) {
            feature = x.position();
            layer = "E";
            jsNodeId = "E_" + x.tokenId() + "-" + x.position();
            featureType = EMBEDDING;
        } else {
            Node.LogitNode x = (Node.LogitNode) node;
            feature = x.vocabIndex();
            layer = Integer.toString(layers + 1);
            jsNodeId = "L_" + x.vocabIndex() + "-" + last;
            featureType = LOGIT;
            tokenProb = x.weight();
            target = firstLogit;
            clerp = logitLabel(x.label(), x.weight());
        }
        o.put("feature", feature);
        o.put("layer", layer);
        o.put("ctx_idx", node instanceof Node.LogitNode ? last : node.position());
        o.put("feature_type", featureType);
        o.put("token_prob", Double.isFinite(tokenProb) ? tokenProb : 0.0);
        o.put("is_target_logit", target);
        o.put("run_idx", 0);
        o.put("reverse_ctx_idx", 0);
        o.put("jsNodeId", jsNodeId);
        o.put("clerp", clerp);
        putFiniteOrNull(o, "influence", influence);
        putFiniteOrNull(o, "activation", activation == null ? Double.NaN : activation);
        return o;
    }

    private static void putFiniteOrNull(ObjectNode o, String field, double value) {
        if (Double.isFinite(value)) {
            o.put(field, value);
        } else {
            o.putNull(field);
        }
    }

    /** The {@code node_id} of a node (docs/reference/graph-format.md §2.4.2). */
    public static String nodeId(AttributionGraph graph, Node node) {
        if (node instanceof Node.FeatureNode x) {
            return x.layer() + "_" + x.feature() + "_" + x.position();
        } else if (node instanceof Node.ErrorNode x) {
            return "0_" + x.layer() + "_" + x.position();
        } else if (node instanceof Node.TokenNode x) {
            return "E_" + x.tokenId() + "_" + x.position();
        }
        Node.LogitNode x = (Node.LogitNode) node;
        return (graph.model().layers() + 1) + "_" + x.vocabIndex() + "_" + (graph.tokens().length() - 1);
    }

    /** {@code Output "<label>" (p=<prob, 3 decimals>)}, rounding the exact binary value half-even as Python does. */
    public static String logitLabel(String label, float probability) {
        String p = Float.isFinite(probability)
                ? new BigDecimal((double) probability).setScale(3, RoundingMode.HALF_EVEN).toPlainString()
                : Float.toString(probability).toLowerCase(java.util.Locale.ROOT);
        return "Output \"" + label + "\" (p=" + p + ")";
    }

    private static String describe(Node node) {
        if (node instanceof Node.FeatureNode x) {
            return "feature (layer " + x.layer() + ", index " + x.feature() + ", position " + x.position() + ")";
        } else if (node instanceof Node.ErrorNode x) {
            return "error (layer " + x.layer() + ", position " + x.position() + ")";
        } else if (node instanceof Node.TokenNode x) {
            return "embedding (position " + x.position() + ")";
        }
        return "logit (index " + ((Node.LogitNode) node).vocabIndex() + ")";
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }
}
