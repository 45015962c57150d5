package org.circuittracer.viewer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import org.circuittracer.attribution.export.FeatureIds;
import org.circuittracer.attribution.export.GraphIndex;

/** Graph directories and feature files for the tests: hand-made, generated at scale, or attributed for real. */
final class TestGraphs {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String SMALL = "small-demo";

    private TestGraphs() {
    }

    /**
     * A hand-made 2-layer graph: prompt "&lt;bos&gt; the cat sat", 4 features, 1 error, 4 embeddings, 2 logits.
     */
    static ObjectNode smallGraph(String slug) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        ObjectNode m = root.putObject("metadata");
        m.put("slug", slug);
        m.put("scan", "test/toy-transcoders");
        m.putArray("transcoder_list");
        ArrayNode toks = m.putArray("prompt_tokens");
        for (String t : new String[] {"<bos>", "the", " cat", " sat"}) {
            toks.add(t);
        }
        m.put("prompt", "the cat sat");
        m.put("node_threshold", 0.8);
        m.put("schema_version", 1);
        ObjectNode q = root.putObject("qParams");
        q.putArray("pinnedIds");
        q.putArray("supernodes");
        q.put("linkType", "both");
        q.put("clickedId", "");
        q.put("sg_pos", "");
        ArrayNode nodes = root.putArray("nodes");
        feature(nodes, 0, 12, 2, 0.31, 5.5);
        feature(nodes, 0, 7, 3, 0.52, 2.25);
        feature(nodes, 1, 40, 3, 0.18, 7.0);
        feature(nodes, 1, 5, 2, 0.77, 1.5);
        node(nodes, "0_1_3", -1, "1", 3, "mlp reconstruction error", 0.66, null, "");
        int[] tokenIds = {1, 10, 11, 12};
        for (int p = 0; p < 4; p++) {
            node(nodes, "E_" + tokenIds[p] + "_" + p, p, "E", p, "embedding", 0.9, null, "");
        }
        ObjectNode on = node(nodes, "3_20_3", 20, "3", 3, "logit", null, null, "Output \" on\" (p=0.600)");
        on.put("token_prob", 0.6);
        on.put("is_target_logit", true);
        ObjectNode down = node(nodes, "3_21_3", 21, "3", 3, "logit", null, null, "Output \" down\" (p=0.250)");
        down.put("token_prob", 0.25);
        ArrayNode links = root.putArray("links");
        link(links, "E_11_2", "0_12_2", 3.0);
        link(links, "E_12_3", "0_7_3", 1.2);
        link(links, "0_12_2", "1_40_3", 2.0);
        link(links, "0_7_3", "1_40_3", -0.7);
        link(links, "E_12_3", "1_40_3", 0.5);
        link(links, "0_12_2", "1_5_2", 0.4);
        link(links, "1_40_3", "3_20_3", 4.0);
        link(links, "1_40_3", "3_21_3", -1.0);
        link(links, "0_1_3", "3_20_3", 0.6);
        link(links, "1_5_2", "3_21_3", 0.3);
        link(links, "E_12_3", "3_20_3", 0.8);
        return root;
    }

    private static void feature(ArrayNode nodes, int layer, int index, int pos, double influence, double act) {
        node(nodes, layer + "_" + index + "_" + pos, FeatureIds.pair(layer, index), Integer.toString(layer), pos,
                "cross layer transcoder", influence, act, "");
    }

    private static ObjectNode node(ArrayNode nodes, String id, long feature, String layer, int pos, String type,
                                   Double influence, Double activation, String clerp) {
        ObjectNode n = nodes.addObject();
        n.put("node_id", id);
        n.put("feature", feature);
        n.put("layer", layer);
        n.put("ctx_idx", pos);
        n.put("feature_type", type);
        n.put("token_prob", 0.0);
        n.put("is_target_logit", false);
        n.put("run_idx", 0);
        n.put("reverse_ctx_idx", 0);
        n.put("jsNodeId", id);
        n.put("clerp", clerp);
        if (influence == null) {
            n.putNull("influence");
        } else {
            n.put("influence", influence);
        }
        if (activation == null) {
            n.putNull("activation");
        } else {
            n.put("activation", activation);
        }
        return n;
    }

    private static void link(ArrayNode links, String s, String t, double w) {
        ObjectNode l = links.addObject();
        l.put("source", s);
        l.put("target", t);
        l.put("weight", w);
    }

    static final String HEADS = "small-heads";

    /**
     * {@link #smallGraph} with attention-head loadings (issue 20): 2 attention layers of 4 heads, the top 2 per layer
     * stored. Into 1_40_3: 0_12_2 (2.0) and 0_7_3 (-0.7) carry loadings at both layers, E_12_3 (0.5) none; 1_40_3's
     * link to the logit 3_20_3 (4.0) passes only layer 1. Numbers exact in binary where sums are checked.
     */
    static ObjectNode headsGraph(String slug) {
        ObjectNode g = smallGraph(slug);
        ObjectNode hl = ((ObjectNode) g.get("metadata")).putObject("head_loadings");
        hl.put("layers", 2);
        hl.put("heads", 4);
        hl.put("top_k", 2);
        for (JsonNode l : g.get("links")) {
            String key = l.get("source").asText() + ">" + l.get("target").asText();
            switch (key) {
                case "0_12_2>1_40_3" -> heads((ObjectNode) l, new double[][] {{0, 1, 0.8}, {0, 3, -0.3}, {1, 0, 0.5},
                    {1, 2, 0.2}}, 1.25, 1.0);
                case "0_7_3>1_40_3" -> heads((ObjectNode) l, new double[][] {{0, 1, -0.4}, {0, 2, 0.1}, {1, 0, -0.2}},
                        -0.3, -0.5);
                case "1_40_3>3_20_3" -> heads((ObjectNode) l, new double[][] {{1, 1, 2.0}, {1, 3, 0.25}}, 4.0, 1.5);
                default -> { }
            }
        }
        return g;
    }

    private static void heads(ObjectNode link, double[][] loadings, double... bypass) {
        ArrayNode a = link.putArray("head_loadings");
        for (double[] e : loadings) {
            a.addArray().add((int) e[0]).add((int) e[1]).add(e[2]);
        }
        ArrayNode b = link.putArray("head_bypass");
        for (double v : bypass) {
            b.add(v);
        }
    }

    static final String QK = "small-qk";

    /**
     * {@link #headsGraph} (or, without heads, {@link #smallGraph}) with QK attribution (issue 20) on the link
     * 0_12_2 → 1_40_3 (query position 3, key position 2): L1.H0 (a stored head of the link) with pairwise terms, one
     * naming a node the graph lacks (0_99_3), both marginal lists and a constant; L0.H2 (not stored for the link) whose
     * soft-capped logit differs from its score.
     */
    static ObjectNode qkGraph(String slug, boolean withHeads) {
        ObjectNode g = withHeads ? headsGraph(slug) : smallGraph(slug);
        ObjectNode meta = ((ObjectNode) g.get("metadata")).putObject("qk");
        meta.put("links", 1);
        meta.put("top_k", 3);
        for (JsonNode l : g.get("links")) {
            if (!"0_12_2".equals(l.get("source").asText()) || !"1_40_3".equals(l.get("target").asText())) {
                continue;
            }
            ArrayNode qk = ((ObjectNode) l).putArray("qk");
            ObjectNode a = qkEntry(qk, 1, 0, 3.21, 3.21, 0.4);
            ObjectNode r = a.putObject("qk_tracing_results");
            ArrayNode pairs = r.putArray("pair_wise_contributors");
            pairs.addArray().add("0_7_3").add("E_11_2").add(1.02);
            pairs.addArray().add("E_12_3").add("0_12_2").add(-0.31);
            pairs.addArray().add("0_99_3").add("E_11_2").add(0.25);
            r.putArray("top_q_marginal_contributors").addArray().add("0_7_3").add(0.7);
            ArrayNode km = r.putArray("top_k_marginal_contributors");
            km.addArray().add("E_11_2").add(0.5);
            km.addArray().add("0_12_2").add(-0.125);
            ObjectNode b = qkEntry(qk, 0, 2, 2.5, 2.25, -0.05);
            ObjectNode rb = b.putObject("qk_tracing_results");
            rb.putArray("pair_wise_contributors").addArray().add("E_12_3").add("E_11_2").add(0.6);
            rb.putArray("top_q_marginal_contributors");
            rb.putArray("top_k_marginal_contributors");
        }
        return g;
    }

    private static ObjectNode qkEntry(ArrayNode qk, int layer, int head, double score, double logit, double constant) {
        ObjectNode e = qk.addObject();
        e.put("layer", layer);
        e.put("head", head);
        e.put("query", 3);
        e.put("key", 2);
        e.put("score", score);
        e.put("logit", logit);
        e.put("constant", constant);
        return e;
    }

    /** Writes a graph file and adds it to the directory's index. */
    static Path write(Path dir, ObjectNode graph) {
        try {
            Files.createDirectories(dir);
            String slug = graph.get("metadata").get("slug").asText();
            Path file = dir.resolve(slug + ".json");
            JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), graph);
            GraphIndex.upsert(dir, (ObjectNode) graph.get("metadata"));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A synthetic graph of {@code features} feature nodes over {@code positions} positions and {@code layers} layers,
     * each feature with {@code fanIn} incoming links from earlier layers; influences spread over (0, 1].
     */
    static ObjectNode largeGraph(String slug, int features, int positions, int layers, int fanIn, long seed) {
        Random rnd = new Random(seed);
        ObjectNode root = smallGraph(slug);
        ObjectNode m = (ObjectNode) root.get("metadata");
        ArrayNode toks = m.putArray("prompt_tokens");
        for (int p = 0; p < positions; p++) {
            toks.add(p == 0 ? "<bos>" : " w" + p);
        }
        m.put("prompt", "synthetic prompt of " + positions + " tokens");
        m.put("node_threshold", 1.0);
        ArrayNode nodes = root.putArray("nodes");
        ArrayNode links = root.putArray("links");
        List<List<String>> byLayer = new ArrayList<>();
        List<Integer> posOf = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            byLayer.add(new ArrayList<>());
        }
        List<String> embeddings = new ArrayList<>();
        for (int i = 0; i < features; i++) {
            int layer = i % layers;
            int pos = 1 + rnd.nextInt(positions - 1);
            int index = i;
            feature(nodes, layer, index, pos, (i + 1.0) / features, 1 + rnd.nextDouble() * 9);
            byLayer.get(layer).add(layer + "_" + index + "_" + pos);
        }
        for (int p = 0; p < positions; p++) {
            String id = "E_" + (100 + p) + "_" + p;
            node(nodes, id, p, "E", p, "embedding", 1.0, null, "");
            embeddings.add(id);
        }
        String logit = (layers + 1) + "_7_" + (positions - 1);
        ObjectNode lg = node(nodes, logit, 7, Integer.toString(layers + 1), positions - 1, "logit", null, null,
                "Output \" x\" (p=0.900)");
        lg.put("token_prob", 0.9);
        lg.put("is_target_logit", true);
        for (int l = 0; l < layers; l++) {
            for (String target : byLayer.get(l)) {
                for (int k = 0; k < fanIn; k++) {
                    List<String> pool = l == 0 || rnd.nextInt(4) == 0 ? embeddings : byLayer.get(rnd.nextInt(l));
                    String source = pool.get(rnd.nextInt(pool.size()));
                    link(links, source, target, rnd.nextGaussian());
                }
                if (l == layers - 1 || rnd.nextInt(20) == 0) {
                    link(links, target, logit, rnd.nextGaussian());
                }
            }
        }
        return root;
    }

    /** A feature object (docs/reference/graph-format.md §4.1) with two example groups, one of them with byte-split tokens. */
    static ObjectNode featureDetails(long z, String word) {
        ObjectNode f = JsonNodeFactory.instance.objectNode();
        f.put("transcoder_id", "test/toy-transcoders");
        f.put("index", z);
        ArrayNode groups = f.putArray("examples_quantiles");
        ObjectNode top = groups.addObject();
        top.put("quantile_name", "Top activations");
        ArrayNode ex = top.putArray("examples");
        example(ex, new String[] {"The", " " + word, " sat", " on", " the", " mat"}, new double[] {0, 9.5, 2.1, 0, 0, 0}, 1,
                false);
        example(ex, new String[] {"A", " big", " " + word, " ran", " away"}, new double[] {0, 0.4, 8.75, 1.0, 0}, 2, false);
        example(ex, new String[] {"The", " " + word, " sat", " on", " the", " mat"}, new double[] {0, 9.5, 2.1, 0, 0, 0}, 1,
                true);
        ObjectNode low = groups.addObject();
        low.put("quantile_name", "Lower activations");
        example(low.putArray("examples"), new String[] {"He", " didn", "\\xe2\\x80", "\\x99", "t", " " + word},
                new double[] {0, 0, 1.5, 0.5, 0, 3.0}, 5, false);
        ArrayNode tl = f.putArray("top_logits");
        tl.add(" sat").add(" ran").add(" purred");
        ArrayNode bl = f.putArray("bottom_logits");
        bl.add(" the").add(" of");
        f.put("act_min", 0.0);
        f.put("act_max", 10.0);
        ArrayNode qv = f.putArray("quantile_values");
        for (int i = 1; i <= 100; i++) {
            qv.add(i / 10.0);
        }
        ArrayNode h = f.putArray("histogram");
        for (int i = 0; i < 20; i++) {
            h.add(Math.round(1000 * Math.exp(-i / 4.0)));
        }
        f.put("activation_frequency", (z % 100) / 1000.0);
        return f;
    }

    private static void example(ArrayNode ex, String[] tokens, double[] acts, int train, boolean repeated) {
        ObjectNode e = ex.addObject();
        ArrayNode t = e.putArray("tokens");
        for (String s : tokens) {
            t.add(s);
        }
        ArrayNode a = e.putArray("tokens_acts_list");
        for (double d : acts) {
            a.add(d);
        }
        e.put("train_token_ind", train);
        e.put("is_repeated_datapoint", repeated);
    }

    /**
     * Writes the packed layout for the graph's feature nodes: {@code index.json.gz} (gzip) naming {@code layer_L.bin},
     * each record a little-endian length and a zlib (even layers) or gzip (odd layers) payload.
     *
     * @return the record offsets: paired id → [start, end)
     */
    static Map<Long, long[]> writePackedFeatures(Path dir, JsonNode graph) {
        try {
            Files.createDirectories(dir);
            TreeMap<Integer, TreeMap<Long, Long>> byLayer = new TreeMap<>();
            String[] words = {"cat", "dog", "fox", "owl", "bee"};
            for (JsonNode n : graph.get("nodes")) {
                if (n.path("feature_type").asText().equals("cross layer transcoder")) {
                    long z = n.get("feature").asLong();
                    FeatureIds.LayerIndex li = FeatureIds.unpair(z);
                    byLayer.computeIfAbsent(li.layer(), k -> new TreeMap<>()).put(li.index(), z);
                }
            }
            int maxLayer = byLayer.isEmpty() ? -1 : byLayer.lastKey();
            ArrayNode index = JSON.createArrayNode();
            Map<Long, long[]> ranges = new java.util.HashMap<>();
            for (int layer = 0; layer <= maxLayer; layer++) {
                TreeMap<Long, Long> feats = byLayer.getOrDefault(layer, new TreeMap<>());
                long maxIndex = feats.isEmpty() ? -1 : feats.lastKey();
                ByteArrayOutputStream bin = new ByteArrayOutputStream();
                ArrayNode offsets = JSON.createArrayNode();
                for (long i = 0; i <= maxIndex; i++) {
                    offsets.add(bin.size());
                    Long z = feats.get(i);
                    if (z != null) {
                        long start = bin.size();
                        byte[] json = JSON.writeValueAsBytes(featureDetails(z, words[(int) (z % words.length)]));
                        byte[] payload = layer % 2 == 0 ? zlib(json) : gzip(json);
                        bin.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(payload.length).array());
                        bin.write(payload);
                        ranges.put(z, new long[] {start, bin.size()});
                    }
                }
                offsets.add(bin.size());
                String name = "layer_" + layer + ".bin";
                Files.write(dir.resolve(name), bin.toByteArray());
                ObjectNode entry = index.addObject();
                entry.put("filename", name);
                entry.set("offsets", offsets);
            }
            Files.write(dir.resolve("index.json.gz"), gzip(JSON.writeValueAsBytes(index)));
            return ranges;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    static byte[] zlib(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DeflaterOutputStream z = new DeflaterOutputStream(out)) {
            z.write(data);
        }
        return out.toByteArray();
    }
}
