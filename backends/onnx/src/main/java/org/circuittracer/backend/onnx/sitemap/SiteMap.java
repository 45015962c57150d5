package org.circuittracer.backend.onnx.sitemap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.site.HookSite;

/**
 * A declarative map from canonical hook sites (and the weights the frozen model's adjoint needs) to the tensors of an
 * ONNX graph, found by node name. One JSON file per architecture family ships with the backend
 * ({@code sitemaps/gpt2.json}, {@code llama.json}, {@code gemma2.json}, {@code qwen3.json}, {@code gemma3.json}); users give their own for
 * other architectures with the model option {@code site-map}. The format:
 *
 * <pre>{@code
 * {
 *   "family": "llama",
 *   "architectures": ["LlamaForCausalLM"],        // config.json values this map is for
 *   "norm": "rms",                                // or "layer" (LayerNorm: centred, so its adjoint centres)
 *   "sites": {                                    // canonical site -> a node's output (or input) tensor
 *     "blocks.{L}.hook_resid_mid": {"node": "/model/layers.{L}/Add"},
 *     "blocks.{L}.hook_resid_pre": {"node": "/model/layers.{L}/input_layernorm/Square", "input": 0},
 *     ...
 *   },
 *   "weights": {                                  // weights as [in, out] initializers of MatMul / Mul nodes
 *     "blocks.{L}.attn.W_V": {"node": "/model/layers.{L}/self_attn/v_proj/MatMul", "input": 1},
 *     "blocks.{L}.attn.W_V": {"node": "...c_attn/MatMul", "input": 1, "split": {"index": 2, "count": 3}},
 *     ...
 *   }
 * }
 * }</pre>
 *
 * In node patterns {@code {L}} stands for the layer index and {@code *} for any characters; a site's tensor is output
 * {@code output} (default 0) of the matching node, or its input {@code input}. Weight keys are {@code blocks.{L}.attn.W_V}
 * ({@code [d, KV·h]}), {@code blocks.{L}.attn.W_O} ({@code [H·h, d]}), the effective norm gains
 * {@code blocks.{L}.ln1.w}, {@code ln1_post.w}, {@code ln2.w}, {@code ln2_post.w}, {@code ln_final.w} ({@code [d]})
 * and {@code unembed.W_U} ({@code [d, V]}); {@code split} takes one of {@code count} equal column blocks.
 *
 * @param family        a name for messages
 * @param architectures the {@code config.json} architectures the map is for (may be empty for a user map)
 * @param layerNorm     whether the model's norms are LayerNorms (else RMSNorms)
 * @param sites         site pattern (e.g. {@code blocks.{L}.hook_resid_mid}) to tensor reference
 * @param weights       weight pattern to weight reference
 */
public record SiteMap(String family, List<String> architectures, boolean layerNorm, Map<String, TensorRef> sites,
                      Map<String, WeightRef> weights) {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> BUILT_IN = List.of("gpt2", "llama", "gemma2", "qwen3", "gemma3");

    public SiteMap {
        architectures = List.copyOf(architectures);
        sites = Map.copyOf(sites);
        weights = Map.copyOf(weights);
    }

    /**
     * A node's tensor.
     *
     * @param node   the node-name pattern
     * @param input  the input index, or -1 for an output
     * @param output the output index (when {@code input < 0})
     */
    public record TensorRef(String node, int input, int output) {
    }

    /**
     * A weight: an input of a node that is an initializer.
     *
     * @param tensor     the node and input
     * @param splitIndex which column block, or -1 for the whole tensor
     * @param splitCount how many equal column blocks
     */
    public record WeightRef(TensorRef tensor, int splitIndex, int splitCount) {
    }

    /** The built-in map for a {@code config.json} architecture, if there is one. */
    public static Optional<SiteMap> builtIn(String architecture) {
        for (String family : BUILT_IN) {
            SiteMap map = builtInFamily(family);
            if (map.architectures().contains(architecture)) {
                return Optional.of(map);
            }
        }
        return Optional.empty();
    }

    /** The architectures the built-in maps cover. */
    public static List<String> builtInArchitectures() {
        return BUILT_IN.stream().flatMap(f -> builtInFamily(f).architectures().stream()).toList();
    }

    static SiteMap builtInFamily(String family) {
        String resource = "/org/circuittracer/backend/onnx/sitemaps/" + family + ".json";
        try (InputStream in = SiteMap.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            return parse(JSON.readTree(in), resource);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource, e);
        }
    }

    /**
     * Reads a user-supplied map.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND or MALFORMED_FILE naming the file and the problem
     */
    public static SiteMap read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The site map " + file
                    + " does not exist. Give a JSON file as described in docs/backends/onnx.md.");
        }
        try (InputStream in = Files.newInputStream(file)) {
            return parse(JSON.readTree(in), file.toString());
        } catch (IOException e) {
            throw malformed(file.toString(), "it is not valid JSON (" + e.getMessage() + ")");
        }
    }

    private static SiteMap parse(JsonNode root, String source) {
        if (root == null || !root.isObject()) {
            throw malformed(source, "the top level must be a JSON object");
        }
        String norm = root.path("norm").asText("rms");
        if (!norm.equals("rms") && !norm.equals("layer")) {
            throw malformed(source, "\"norm\" must be \"rms\" or \"layer\", got \"" + norm + "\"");
        }
        List<String> architectures = new ArrayList<>();
        root.path("architectures").forEach(a -> architectures.add(a.asText()));
        Map<String, TensorRef> sites = new LinkedHashMap<>();
        JsonNode siteNodes = root.path("sites");
        if (!siteNodes.isObject() || siteNodes.isEmpty()) {
            throw malformed(source, "\"sites\" must be a non-empty object from site names to {\"node\": ...}");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = siteNodes.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            // check the spelling now, with layer 0 for the placeholder
            try {
                HookSite.parse(e.getKey().replace("{L}", "0"));
            } catch (CircuitTracerException bad) {
                throw malformed(source, "site \"" + e.getKey() + "\": " + bad.getMessage());
            }
            if (e.getKey().contains("{L}") != e.getKey().startsWith("blocks.")) {
                throw malformed(source, "site \"" + e.getKey() + "\": per-layer sites are spelled blocks.{L}.<hook>");
            }
            sites.put(e.getKey(), tensor(e.getValue(), source, e.getKey()));
        }
        Map<String, WeightRef> weights = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.path("weights").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode split = e.getValue().path("split");
            int index = split.isObject() ? split.path("index").asInt(-1) : -1;
            int count = split.isObject() ? split.path("count").asInt(0) : 1;
            if (split.isObject() && (count < 1 || index < 0 || index >= count)) {
                throw malformed(source, "weight \"" + e.getKey() + "\": \"split\" needs 0 <= index < count");
            }
            weights.put(e.getKey(), new WeightRef(tensor(e.getValue(), source, e.getKey()), index, count));
        }
        return new SiteMap(root.path("family").asText("custom"), architectures, norm.equals("layer"), sites, weights);
    }

    private static TensorRef tensor(JsonNode node, String source, String key) {
        if (!node.isObject() || !node.path("node").isTextual() || node.path("node").asText().isEmpty()) {
            throw malformed(source, "\"" + key + "\" must be an object with a \"node\" name pattern");
        }
        int input = node.has("input") ? node.path("input").asInt(-1) : -1;
        int output = node.path("output").asInt(0);
        if ((node.has("input") && input < 0) || output < 0) {
            throw malformed(source, "\"" + key + "\": \"input\" and \"output\" are indices >= 0");
        }
        return new TensorRef(node.path("node").asText(), input, output);
    }

    /** The regular expression of a node pattern; group 1 is the layer when the pattern has {@code {L}}. */
    static Pattern regex(String pattern) {
        StringBuilder regex = new StringBuilder();
        int i = 0;
        while (i < pattern.length()) {
            if (pattern.startsWith("{L}", i)) {
                regex.append("(\\d+)");
                i += 3;
            } else if (pattern.charAt(i) == '*') {
                regex.append(".*");
                i++;
            } else {
                int next = i;
                while (next < pattern.length() && pattern.charAt(next) != '*' && !pattern.startsWith("{L}", next)) {
                    next++;
                }
                regex.append(Pattern.quote(pattern.substring(i, next)));
                i = next;
            }
        }
        return Pattern.compile(regex.toString());
    }

    private static CircuitTracerException malformed(String source, String problem) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "The site map " + source + " is malformed: "
                + problem + ".");
    }
}
