package org.circuittracer.dashboards.files;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.circuittracer.dashboards.ActivationExample;
import org.circuittracer.dashboards.ExampleGroup;
import org.circuittracer.dashboards.FeatureDashboard;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * The feature object of docs/reference/graph-format.md §4.1 as JSON, both ways. Written compact, in a fixed field order, with
 * float32 values in their shortest form (they read back to the same floats). Reading accepts any file that meets
 * Neuronpedia's minimum ({@code index}, {@code examples_quantiles} with {@code quantile_name} and {@code examples},
 * each example with {@code tokens} and {@code tokens_acts_list}) and ignores unknown fields.
 */
public final class FeatureJson {

    static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private FeatureJson() {
    }

    /** The JSON object of a dashboard. */
    public static ObjectNode toJson(FeatureDashboard d) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("transcoder_id", d.transcoderId());
        o.put("index", d.index());
        o.put("layer", d.layer());
        o.put("feature", d.feature());
        ArrayNode groups = o.putArray("examples_quantiles");
        for (ExampleGroup g : d.groups()) {
            ObjectNode group = groups.addObject();
            group.put("quantile_name", g.name());
            ArrayNode examples = group.putArray("examples");
            for (ActivationExample e : g.examples()) {
                ObjectNode example = examples.addObject();
                ArrayNode tokens = example.putArray("tokens");
                e.tokens().forEach(tokens::add);
                ArrayNode acts = example.putArray("tokens_acts_list");
                for (float a : e.activations()) {
                    acts.add(a);
                }
                example.put("train_token_ind", e.tokenIndex());
                example.put("is_repeated_datapoint", e.repeated());
            }
        }
        d.topLogits().forEach(o.putArray("top_logits")::add);
        d.bottomLogits().forEach(o.putArray("bottom_logits")::add);
        o.put("act_min", d.actMin());
        o.put("act_max", d.actMax());
        ArrayNode quantiles = o.putArray("quantile_values");
        for (float q : d.quantileValues()) {
            quantiles.add(q);
        }
        ArrayNode histogram = o.putArray("histogram");
        for (long c : d.histogram()) {
            histogram.add(c);
        }
        o.put("activation_frequency", d.activationFrequency());
        return o;
    }

    /** UTF-8 JSON bytes of a dashboard. */
    public static byte[] toBytes(FeatureDashboard d) {
        try {
            return MAPPER.writeValueAsBytes(toJson(d));
        } catch (JsonProcessingException e) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Cannot serialise the dashboard of layer "
                    + d.layer() + ", feature " + d.feature() + ": " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Parses a feature object.
     *
     * @param layer   the layer it was found under (the file's own {@code layer} is not trusted)
     * @param feature the feature index it was found under
     * @param source  names the file (and record) in error messages
     * @throws CircuitTracerException MALFORMED_FILE naming {@code source} and the problem
     */
    public static FeatureDashboard parse(byte[] json, int layer, int feature, String source) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (IOException e) {
            throw malformed(source, "is not JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (root == null || !root.isObject()) {
            throw malformed(source, "is not a JSON object");
        }
        JsonNode index = root.get("index");
        if (index == null || !index.isNumber()) {
            throw malformed(source, "has no numeric \"index\"");
        }
        JsonNode groupsNode = root.get("examples_quantiles");
        if (groupsNode == null || !groupsNode.isArray()) {
            throw malformed(source, "has no \"examples_quantiles\" array");
        }
        List<ExampleGroup> groups = new ArrayList<>();
        for (int g = 0; g < groupsNode.size(); g++) {
            JsonNode group = groupsNode.get(g);
            String where = "examples_quantiles[" + g + "]";
            if (!group.path("quantile_name").isTextual() || !group.path("examples").isArray()) {
                throw malformed(source, "has no \"quantile_name\" string or \"examples\" array in " + where);
            }
            List<ActivationExample> examples = new ArrayList<>();
            JsonNode examplesNode = group.get("examples");
            for (int e = 0; e < examplesNode.size(); e++) {
                examples.add(example(examplesNode.get(e), source, where + ".examples[" + e + "]"));
            }
            groups.add(new ExampleGroup(group.get("quantile_name").asText(), examples));
        }
        return new FeatureDashboard(root.path("transcoder_id").asText(""), index.longValue(), layer, feature, groups,
                strings(root.get("top_logits"), source, "top_logits"),
                strings(root.get("bottom_logits"), source, "bottom_logits"),
                number(root.get("act_min"), source, "act_min"), number(root.get("act_max"), source, "act_max"),
                floats(root.get("quantile_values"), source, "quantile_values"),
                counts(root.get("histogram"), source),
                frequency(root.get("activation_frequency"), source));
    }

    private static ActivationExample example(JsonNode node, String source, String where) {
        if (!node.isObject()) {
            throw malformed(source, "has a non-object at " + where);
        }
        List<String> tokens = strings(node.get("tokens"), source, where + ".tokens");
        float[] acts = floats(node.get("tokens_acts_list"), source, where + ".tokens_acts_list");
        if (node.get("tokens") == null || node.get("tokens_acts_list") == null) {
            throw malformed(source, "lacks \"tokens\" or \"tokens_acts_list\" at " + where);
        }
        if (tokens.size() != acts.length) {
            throw malformed(source, "has " + tokens.size() + " tokens but " + acts.length + " activations at " + where);
        }
        int peak = 0;
        for (int i = 1; i < acts.length; i++) {
            peak = acts[i] > acts[peak] ? i : peak;
        }
        JsonNode ind = node.get("train_token_ind");
        if (ind != null) {
            if (!ind.canConvertToInt() || ind.intValue() < 0 || ind.intValue() >= Math.max(1, tokens.size())) {
                throw malformed(source, "has train_token_ind " + ind + " outside its " + tokens.size()
                        + " tokens at " + where);
            }
            peak = ind.intValue();
        }
        return new ActivationExample(tokens, acts, peak, node.path("is_repeated_datapoint").asBoolean(false));
    }

    private static List<String> strings(JsonNode node, String source, String field) {
        List<String> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isArray()) {
            throw malformed(source, "has a non-array \"" + field + "\"");
        }
        for (JsonNode s : node) {
            if (!s.isTextual()) {
                throw malformed(source, "has a non-string entry " + s + " in \"" + field + "\"");
            }
            out.add(s.asText());
        }
        return out;
    }

    private static float[] floats(JsonNode node, String source, String field) {
        if (node == null || node.isNull()) {
            return new float[0];
        }
        if (!node.isArray()) {
            throw malformed(source, "has a non-array \"" + field + "\"");
        }
        float[] out = new float[node.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) number(node.get(i), source, field + "[" + i + "]");
        }
        return out;
    }

    private static long[] counts(JsonNode node, String source) {
        float[] values = floats(node, source, "histogram");
        long[] out = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Math.round(node.get(i).doubleValue());
        }
        return out;
    }

    private static double frequency(JsonNode node, String source) {
        if (node == null || node.isNull()) {
            return Double.NaN;
        }
        if (!node.isNumber()) {
            throw malformed(source, "has a non-number " + node + " in \"activation_frequency\"");
        }
        return node.doubleValue();
    }

    /** A float32 value read without double rounding (the file holds the shortest decimal of a float). */
    private static float number(JsonNode node, String source, String field) {
        if (node == null || node.isNull()) {
            return Float.NaN;
        }
        if (!node.isNumber()) {
            throw malformed(source, "has a non-number " + node + " in \"" + field + "\"");
        }
        return node.isIntegralNumber() ? node.floatValue() : Float.parseFloat(node.decimalValue().toString());
    }

    static CircuitTracerException malformed(String source, String problem) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "The feature file " + source + " "
                + problem + ". Recompute the dashboards (circuit-tracer features) or check the file.");
    }
}
