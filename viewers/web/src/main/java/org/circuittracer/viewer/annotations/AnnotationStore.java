package org.circuittracer.viewer.annotations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.viewer.ViewerErrorCode;
import org.circuittracer.viewer.files.FileWrites;
import org.circuittracer.viewer.graph.GraphStore;

/**
 * The annotations of each graph (labels, pinned nodes, supernodes, viewer state, saved subgraphs) in
 * {@code <slug>.annotations.json} next to the graph file (format in docs/viewer.md). Every save names the version it
 * was based on; a save based on an older version than the stored one is refused with a conflict, so two tabs never
 * silently overwrite each other. Files are replaced atomically.
 */
public final class AnnotationStore {

    public static final String FORMAT = "circuit-tracer-annotations";
    public static final int FORMAT_VERSION = 1;
    public static final String SUFFIX = ".annotations.json";
    /** Largest label, in characters. */
    public static final int MAX_LABEL = 2000;

    private static final Set<String> CONTENT = Set.of("labels", "pinnedIds", "supernodes", "state", "subgraphs");
    private static final Set<String> LINK_TYPES = Set.of("input", "output", "either", "both");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final GraphStore graphs;

    /** The stored version after a save. */
    public record Saved(long version, String savedAt) {
    }

    public AnnotationStore(GraphStore graphs) {
        this.graphs = graphs;
    }

    /** The stored annotations, or an empty document at version 0. */
    public ObjectNode load(String slug) {
        graphs.graphFile(slug); // the graph must exist
        return read(slug);
    }

    /**
     * Replaces the annotations if {@code baseVersion} is the stored version.
     *
     * @param body {@code baseVersion} plus any of {@code labels}, {@code pinnedIds}, {@code supernodes},
     *             {@code state}, {@code subgraphs} (missing ones become empty)
     * @throws CircuitTracerException CONFLICT when another save came first; INVALID_ARGUMENT for a malformed body
     */
    public Saved save(String slug, JsonNode body) {
        graphs.graphFile(slug);
        if (body == null || !body.isObject()) {
            throw invalid("The annotations must be a JSON object with \"baseVersion\" and the annotation fields.");
        }
        JsonNode base = body.get("baseVersion");
        if (base == null || !base.canConvertToLong() || !base.isIntegralNumber() || base.asLong() < 0) {
            throw invalid("\"baseVersion\" must be the non-negative integer version the edit started from (0 for a "
                    + "graph without annotations); GET the annotations to learn it.");
        }
        ObjectNode content = JsonNodeFactory.instance.objectNode();
        for (Map.Entry<String, JsonNode> e : body.properties()) {
            if (!e.getKey().equals("baseVersion") && !CONTENT.contains(e.getKey())) {
                throw invalid("Unknown annotation field \"" + e.getKey() + "\"; the fields are baseVersion, "
                        + String.join(", ", CONTENT.stream().sorted().toList()) + ".");
            }
        }
        content.set("labels", labels(body.get("labels"), "labels"));
        content.set("pinnedIds", ids(body.get("pinnedIds"), "pinnedIds"));
        content.set("supernodes", supernodes(body.get("supernodes"), "supernodes"));
        content.set("state", state(body.get("state")));
        content.set("subgraphs", subgraphs(body.get("subgraphs")));
        ReentrantLock lock = graphs.lock(slug);
        lock.lock();
        try {
            ObjectNode current = read(slug);
            long stored = current.path("version").asLong();
            if (stored != base.asLong()) {
                throw new CircuitTracerException(ViewerErrorCode.CONFLICT, "The annotations of '" + slug
                        + "' were saved elsewhere (another tab or user) since this edit began: stored version " + stored
                        + ", this edit is based on version " + base.asLong() + ". Reload to see the other changes, "
                        + "then redo this edit.");
            }
            return write(slug, stored + 1, content);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Adds a named subgraph (pinned nodes, supernodes, labels) to the saved list. Appending cannot overwrite another
     * tab's work, so it needs no base version.
     *
     * @return the new subgraph's id and the new version
     */
    public Map<String, Object> addSubgraph(String slug, JsonNode body) {
        graphs.graphFile(slug);
        ObjectNode sub = subgraph(body, "the subgraph", false);
        sub.put("id", "sg-" + UUID.randomUUID().toString().substring(0, 8));
        sub.put("savedAt", Instant.now().toString());
        ReentrantLock lock = graphs.lock(slug);
        lock.lock();
        try {
            ObjectNode current = read(slug);
            ObjectNode content = JsonNodeFactory.instance.objectNode();
            for (String field : CONTENT) {
                content.set(field, current.get(field));
            }
            ((ArrayNode) content.get("subgraphs")).add(sub);
            Saved saved = write(slug, current.path("version").asLong() + 1, content);
            return Map.of("id", sub.get("id").asText(), "version", saved.version(), "savedAt", saved.savedAt());
        } finally {
            lock.unlock();
        }
    }

    /** The annotation file of a graph. */
    public Path file(String slug) {
        GraphStore.checkSlug(slug);
        return graphs.directory().resolve(slug + SUFFIX);
    }

    private ObjectNode read(String slug) {
        Path file = file(slug);
        if (!Files.isRegularFile(file)) {
            return document(slug, 0, null, emptyContent());
        }
        try {
            JsonNode root = JSON.readTree(file.toFile());
            if (root == null || !root.isObject() || !FORMAT.equals(root.path("format").asText())) {
                throw malformed(file, "it is not a " + FORMAT + " document");
            }
            int fv = root.path("formatVersion").asInt(-1);
            if (fv != FORMAT_VERSION) {
                throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_FORMAT_VERSION, file + " has format "
                        + "version " + fv + "; this viewer reads version " + FORMAT_VERSION + ". Use a matching viewer.");
            }
            ObjectNode doc = (ObjectNode) root;
            for (String field : CONTENT) {
                if (!doc.has(field)) {
                    doc.set(field, emptyContent().get(field));
                }
            }
            return doc;
        } catch (IOException e) {
            throw malformed(file, "it is not valid JSON (" + e.getMessage() + ")");
        }
    }

    private Saved write(String slug, long version, ObjectNode content) {
        String savedAt = Instant.now().toString();
        ObjectNode doc = document(slug, version, savedAt, content);
        try {
            FileWrites.write(graphs.writes(), file(slug), JSON.writeValueAsBytes(doc), "the annotations of '" + slug
                    + "' (version " + version + ")");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Cannot serialise annotations: " + e, e);
        }
        return new Saved(version, savedAt);
    }

    private static ObjectNode document(String slug, long version, String savedAt, ObjectNode content) {
        ObjectNode doc = JsonNodeFactory.instance.objectNode();
        doc.put("format", FORMAT);
        doc.put("formatVersion", FORMAT_VERSION);
        doc.put("slug", slug);
        doc.put("version", version);
        if (savedAt != null) {
            doc.put("savedAt", savedAt);
        }
        doc.setAll(content);
        return doc;
    }

    private static ObjectNode emptyContent() {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.putObject("labels");
        c.putArray("pinnedIds");
        c.putArray("supernodes");
        c.putObject("state");
        c.putArray("subgraphs");
        return c;
    }

    private static ObjectNode labels(JsonNode v, String where) {
        if (v == null || v.isNull()) {
            return JsonNodeFactory.instance.objectNode();
        }
        if (!v.isObject()) {
            throw invalid("\"" + where + "\" must be an object from node id to label text.");
        }
        v.properties().forEach(e -> {
            if (!e.getValue().isTextual()) {
                throw invalid("The label of node '" + e.getKey() + "' in \"" + where + "\" must be text.");
            }
            checkLabel(e.getValue().asText(), "node '" + e.getKey() + "'");
        });
        return (ObjectNode) v;
    }

    private static ArrayNode ids(JsonNode v, String where) {
        if (v == null || v.isNull()) {
            return JsonNodeFactory.instance.arrayNode();
        }
        if (!v.isArray()) {
            throw invalid("\"" + where + "\" must be an array of node id strings.");
        }
        for (JsonNode id : v) {
            if (!id.isTextual() || id.asText().isEmpty()) {
                throw invalid("\"" + where + "\" must hold non-empty node id strings, got " + id + ".");
            }
        }
        return (ArrayNode) v;
    }

    private static ArrayNode supernodes(JsonNode v, String where) {
        if (v == null || v.isNull()) {
            return JsonNodeFactory.instance.arrayNode();
        }
        if (!v.isArray()) {
            throw invalid("\"" + where + "\" must be an array of [label, node_id, ...] arrays.");
        }
        for (JsonNode group : v) {
            if (!group.isArray() || group.isEmpty()) {
                throw invalid("Each supernode in \"" + where + "\" must be a non-empty array [label, node_id, ...], "
                        + "got " + group + ".");
            }
            for (JsonNode s : group) {
                if (!s.isTextual()) {
                    throw invalid("Supernode " + group + " in \"" + where + "\" must hold only strings.");
                }
            }
            checkLabel(group.get(0).asText(), "a supernode");
        }
        return (ArrayNode) v;
    }

    private static ObjectNode state(JsonNode v) {
        if (v == null || v.isNull()) {
            return JsonNodeFactory.instance.objectNode();
        }
        if (!v.isObject()) {
            throw invalid("\"state\" must be an object (clickedId, pruningThreshold, densityThreshold, linkType).");
        }
        v.properties().forEach(e -> {
            if (e.getValue().isContainerNode()) {
                throw invalid("\"state." + e.getKey() + "\" must be a string, number, boolean or null.");
            }
        });
        JsonNode linkType = v.get("linkType");
        if (linkType != null && !linkType.isNull() && !LINK_TYPES.contains(linkType.asText())) {
            throw invalid("\"state.linkType\" must be one of input, output, either, both; got " + linkType + ".");
        }
        for (String t : new String[] {"pruningThreshold", "densityThreshold"}) {
            JsonNode x = v.get(t);
            if (x != null && !x.isNull() && !(x.isNumber() && x.asDouble() >= 0 && x.asDouble() <= 1)) {
                throw invalid("\"state." + t + "\" must be a number in [0, 1] or null; got " + x + ".");
            }
        }
        return (ObjectNode) v;
    }

    private static ArrayNode subgraphs(JsonNode v) {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        if (v == null || v.isNull()) {
            return out;
        }
        if (!v.isArray()) {
            throw invalid("\"subgraphs\" must be an array of saved subgraphs.");
        }
        for (JsonNode s : v) {
            out.add(subgraph(s, "a saved subgraph", true));
        }
        return out;
    }

    private static ObjectNode subgraph(JsonNode s, String what, boolean stored) {
        if (s == null || !s.isObject()) {
            throw invalid(capitalise(what) + " must be an object with name, pinnedIds and supernodes.");
        }
        JsonNode name = s.get("name");
        if (name == null || !name.isTextual() || name.asText().isBlank()) {
            throw invalid(capitalise(what) + " needs a non-empty \"name\".");
        }
        checkLabel(name.asText(), what);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        if (stored) {
            if (!s.path("id").isTextual()) {
                throw invalid("Saved subgraph '" + name.asText() + "' has no \"id\" string.");
            }
            out.put("id", s.get("id").asText());
            if (s.path("savedAt").isTextual()) {
                out.put("savedAt", s.get("savedAt").asText());
            }
        }
        out.put("name", name.asText());
        out.set("pinnedIds", ids(s.get("pinnedIds"), "pinnedIds"));
        out.set("supernodes", supernodes(s.get("supernodes"), "supernodes"));
        out.set("labels", labels(s.get("labels"), "labels"));
        return out;
    }

    private static void checkLabel(String label, String what) {
        if (label.length() > MAX_LABEL) {
            throw invalid("The label of " + what + " has " + label.length() + " characters; at most " + MAX_LABEL
                    + " are kept.");
        }
    }

    private static String capitalise(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }

    private static CircuitTracerException malformed(Path file, String what) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "The annotation file " + file + " cannot "
                + "be read: " + what + ". Restore it or delete it (its graph is unaffected).");
    }
}
