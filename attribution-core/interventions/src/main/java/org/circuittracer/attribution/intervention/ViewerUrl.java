package org.circuittracer.attribution.intervention;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.Positions;

/**
 * Reads the {@code supernodes} and {@code pinnedIds} of a graph-viewer URL (docs/reference/algorithm.md §7.5, docs/reference/graph-format.md §6).
 *
 * <p>Node ids (docs/reference/graph-format.md §2.4.2): {@code {L}_{f}_{p}} features (layer, feature index, position; note the order),
 * {@code E_{token}_{p}} embeddings, {@code 0_{L}_{p}} errors (or {@code 0_{L}_{p}_error} where our exporter renamed a
 * colliding one) and {@code {layers+1}_{v}_{p}} logits. Errors cannot be
 * told from layer-0 features by their id alone; without the layer count logits cannot be told from features either.
 *
 * <p><b>Differences from the reference {@code decode_url_features}</b>, on purpose:
 * <ul>
 *   <li>values are percent-decoded once (form decoding, {@code +} is a space), not twice, so a {@code %} in a label
 *       survives;</li>
 *   <li>malformed values are errors (INVALID_ARGUMENT naming the parameter and the value) instead of being skipped or
 *       mis-parsed: ids with the wrong number of parts or non-numeric parts, supernodes that are not a JSON array of
 *       {@code [label, id, …]} string arrays;</li>
 *   <li>embedding ids are accepted inside supernodes (the reference crashes on them) and come back as
 *       {@link Node.Token};</li>
 *   <li>{@link #decode(String, int)}, given the model's layer count, recognises logit ids and rejects feature ids whose
 *       layer is outside the model (the reference silently returns them as features).</li>
 * </ul>
 */
public final class ViewerUrl {

    private static final Pattern THREE_PARTS = Pattern.compile("(-?\\d+)_(-?\\d+)_(-?\\d+)");
    private static final Pattern EMBEDDING = Pattern.compile("E_(-?\\d+)_(-?\\d+)");
    private static final Pattern RENAMED_ERROR = Pattern.compile("0_(-?\\d+)_(-?\\d+)_error");
    private static final ObjectMapper JSON = new ObjectMapper();

    private ViewerUrl() {
    }

    /** A node named in the URL. */
    public sealed interface Node {
        /** A transcoder feature (or, for layer 0, possibly an error node: their ids coincide). */
        record Feature(int layer, int feature, int position) implements Node {
        }

        /** An embedding node: a token id at a position. */
        record Token(int tokenId, int position) implements Node {
        }

        /** A logit node (recognised only when the layer count is known). */
        record Logit(int vocabIndex, int position) implements Node {
        }

        /**
         * An error node written as {@code 0_{L}_{p}_error} because a layer-0 feature has its reference id (our
         * exporter's rename, docs/formats/graph-files.md). Errors carry no feature to steer; supernodes skip them.
         */
        record Error(int layer, int position) implements Node {
        }
    }

    /**
     * What the URL says.
     *
     * @param supernodes label → members, in URL order; a repeated label gets {@code " (2)"}, {@code " (3)"}, …
     * @param pinned     the pinned nodes, in pin order
     */
    public record Decoded(Map<String, List<Node>> supernodes, List<Node> pinned) {
        public Decoded {
            supernodes = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(supernodes));
            pinned = List.copyOf(pinned);
        }

        /** The feature members of a supernode. */
        public List<Node.Feature> features(String supernode) {
            List<Node> members = supernodes.get(supernode);
            if (members == null) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "No supernode '" + supernode
                        + "' in the URL; it has " + supernodes.keySet() + ".");
            }
            return members.stream().filter(Node.Feature.class::isInstance).map(Node.Feature.class::cast).toList();
        }

        /**
         * Interventions multiplying every feature of a supernode by {@code factor} at its position (the demos' use:
         * −2 to suppress, 2 or 10 to amplify, 0 to ablate).
         */
        public List<Intervention> scale(String supernode, double factor) {
            return features(supernode).stream().map(f -> Intervention.scale(f.layer(), Positions.at(f.position()),
                    f.feature(), factor)).toList();
        }
    }

    /** Decodes a URL without knowing the model: three-part ids are features. */
    public static Decoded decode(String url) {
        return decode(url, -1);
    }

    /**
     * Decodes a URL for a model with {@code layers} layers: {@code {layers+1}_v_p} ids are logits, other three-part
     * ids must have a layer in {@code 0 … layers−1}.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT for a malformed query, supernode value or node id
     */
    public static Decoded decode(String url, int layers) {
        Objects.requireNonNull(url, "url");
        int q = url.indexOf('?');
        String query = q < 0 ? url : url.substring(q + 1);
        int hash = query.indexOf('#');
        if (hash >= 0) {
            query = query.substring(0, hash);
        }
        String supernodes = null;
        String pinned = null;
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = formDecode(eq < 0 ? pair : pair.substring(0, eq), "parameter name");
            String value = eq < 0 ? "" : formDecode(pair.substring(eq + 1), name);
            if (name.equals("supernodes")) {
                supernodes = value;
            } else if (name.equals("pinnedIds")) {
                pinned = value;
            }
        }
        Map<String, List<Node>> groups = new LinkedHashMap<>();
        if (supernodes != null && !supernodes.isBlank()) {
            parseSupernodes(supernodes, layers, groups);
        }
        List<Node> pins = new ArrayList<>();
        if (pinned != null && !pinned.isBlank()) {
            for (String id : pinned.split(",", -1)) {
                pins.add(parseId(id.trim(), layers, "pinnedIds"));
            }
        }
        return new Decoded(groups, pins);
    }

    private static void parseSupernodes(String value, int layers, Map<String, List<Node>> groups) {
        JsonNode root;
        try {
            root = JSON.readTree(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw invalid("The supernodes parameter is not JSON (" + e.getOriginalMessage() + "): " + shorten(value));
        }
        if (root == null || !root.isArray()) {
            throw invalid("The supernodes parameter must be a JSON array of [label, node_id, …] arrays, got: "
                    + shorten(value));
        }
        for (int g = 0; g < root.size(); g++) {
            JsonNode group = root.get(g);
            if (!group.isArray() || group.size() < 1 || !group.get(0).isTextual()) {
                throw invalid("Supernode " + g + " must be an array [label, node_id, …] starting with a text label, got: "
                        + shorten(group.toString()));
            }
            String label = group.get(0).asText();
            List<Node> members = new ArrayList<>();
            for (int i = 1; i < group.size(); i++) {
                if (!group.get(i).isTextual()) {
                    throw invalid("Member " + i + " of supernode '" + label + "' must be a node id string, got: "
                            + group.get(i));
                }
                members.add(parseId(group.get(i).asText(), layers, "supernode '" + label + "'"));
            }
            String name = label;
            for (int k = 2; groups.containsKey(name); k++) {
                name = label + " (" + k + ")";
            }
            groups.put(name, members);
        }
    }

    private static Node parseId(String id, int layers, String where) {
        Matcher embedding = EMBEDDING.matcher(id);
        if (embedding.matches()) {
            int token = parseInt(embedding.group(1), id, where);
            int position = parseInt(embedding.group(2), id, where);
            requireNonNegative(token, "token id", id, where);
            requireNonNegative(position, "position", id, where);
            return new Node.Token(token, position);
        }
        Matcher error = RENAMED_ERROR.matcher(id);
        if (error.matches()) {
            int layer = parseInt(error.group(1), id, where);
            int position = parseInt(error.group(2), id, where);
            requireNonNegative(layer, "layer", id, where);
            requireNonNegative(position, "position", id, where);
            if (layers >= 0 && layer >= layers) {
                throw invalid("'" + id + "' in " + where + " names the error node of layer " + layer + ", but the "
                        + "model has layers 0 to " + (layers - 1) + ".");
            }
            return new Node.Error(layer, position);
        }
        Matcher three = THREE_PARTS.matcher(id);
        if (!three.matches()) {
            throw invalid("'" + id + "' in " + where + " is not a node id: expected {layer}_{feature}_{position} "
                    + "(features, errors, logits), 0_{layer}_{position}_error (renamed errors) or E_{token}_{position} "
                    + "(embeddings), plain decimal integers.");
        }
        int layer = parseInt(three.group(1), id, where);
        int middle = parseInt(three.group(2), id, where);
        int position = parseInt(three.group(3), id, where);
        requireNonNegative(layer, "layer", id, where);
        requireNonNegative(middle, "feature index", id, where);
        requireNonNegative(position, "position", id, where);
        if (layers >= 0) {
            if (layer == layers + 1) {
                return new Node.Logit(middle, position);
            }
            if (layer >= layers) {
                throw invalid("'" + id + "' in " + where + " names layer " + layer + ", but the model has layers 0 to "
                        + (layers - 1) + " (and logits use layer " + (layers + 1) + ").");
            }
        }
        return new Node.Feature(layer, middle, position);
    }

    private static int parseInt(String digits, String id, String where) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw invalid("'" + id + "' in " + where + " has a number out of range: " + digits + ".");
        }
    }

    private static void requireNonNegative(int value, String what, String id, String where) {
        if (value < 0) {
            throw invalid("'" + id + "' in " + where + " has a negative " + what + " (" + value + ").");
        }
    }

    private static String formDecode(String raw, String what) {
        try {
            return URLDecoder.decode(raw, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw invalid("The URL's " + what + " value is not validly percent-encoded (" + e.getMessage() + "): "
                    + shorten(raw));
        }
    }

    private static String shorten(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "…";
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }
}
