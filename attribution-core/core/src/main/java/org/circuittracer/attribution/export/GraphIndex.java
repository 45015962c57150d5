package org.circuittracer.attribution.export;

import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.circuittracer.attribution.io.AtomicFiles;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * The graph index {@code graph-metadata.json} (docs/reference/graph-format.md §3): {@code {"graphs": [metadata, ...]}}. An update
 * loads the file (or starts empty), removes every entry with the same slug, appends the new entry and rewrites the file
 * atomically, with 2-space indent and non-ASCII characters escaped as the reference does. Other entries, their order
 * and unknown keys are kept.
 */
public final class GraphIndex {

    private static final ObjectMapper INDEX_MAPPER = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT).enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();

    private GraphIndex() {
    }

    /**
     * Adds or replaces the entry for {@code metadata.slug} in {@code directory/graph-metadata.json}.
     *
     * @return the index file
     * @throws CircuitTracerException MALFORMED_FILE when the existing file is not a graph index (it is left as is)
     */
    public static Path upsert(Path directory, ObjectNode metadata) {
        Path file = directory.resolve(GraphJsonExporter.INDEX_FILE);
        ObjectNode root = read(file);
        ArrayNode graphs = (ArrayNode) root.get("graphs");
        String slug = metadata.path("slug").asText();
        ArrayNode kept = JsonNodeFactory.instance.arrayNode();
        for (JsonNode entry : graphs) {
            if (!(entry.isObject() && entry.path("slug").isTextual() && entry.path("slug").asText().equals(slug))) {
                kept.add(entry);
            }
        }
        kept.add(metadata.deepCopy());
        root.set("graphs", kept);
        try {
            AtomicFiles.write(file, INDEX_MAPPER.writeValueAsBytes(root));
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Cannot serialise the graph index: " + e, e);
        }
        return file;
    }

    /** The index in {@code file}, or an empty one if the file does not exist. */
    public static ObjectNode read(Path file) {
        if (!Files.exists(file)) {
            ObjectNode empty = JsonNodeFactory.instance.objectNode();
            empty.putArray("graphs");
            return empty;
        }
        JsonNode root;
        try {
            root = INDEX_MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " is not valid JSON ("
                    + e.getMessage() + "); fix or remove it, then export again.", e);
        }
        if (root == null || !root.isObject() || !root.path("graphs").isArray()) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " is not a graph index: it must "
                    + "be an object with a \"graphs\" array; fix or remove it, then export again.");
        }
        return (ObjectNode) root;
    }
}
