package org.circuittracer.spark;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.circuittracer.attribution.export.GraphIndex;
import org.circuittracer.attribution.io.AtomicFiles;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * The batch's {@code graph-metadata.json}, written once by the driver (parallel tasks would race on it): the entries of
 * an existing index for other slugs stay, in order, then this batch's graphs in input order; the same layout as
 * {@link GraphIndex} writes for one graph.
 */
final class BatchIndex {

    private static final ObjectMapper INDEX = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private BatchIndex() {
    }

    static void write(Path file, List<SummaryRow> rows) {
        ObjectNode root = GraphIndex.read(file);
        Set<String> ours = new HashSet<>();
        ArrayNode added = JsonNodeFactory.instance.arrayNode();
        for (SummaryRow r : rows) {
            if (r.metadata() != null && ours.add(r.slug())) {
                try {
                    added.add(JSON.readTree(r.metadata()));
                } catch (IOException e) {
                    throw new CircuitTracerException(StandardErrorCode.INTERNAL, "The index entry of " + r.slug()
                            + " is not JSON: " + e.getMessage(), e);
                }
            }
        }
        ArrayNode graphs = JsonNodeFactory.instance.arrayNode();
        for (JsonNode entry : root.get("graphs")) {
            if (!ours.contains(entry.path("slug").asText())) {
                graphs.add(entry);
            }
        }
        graphs.addAll(added);
        root.set("graphs", graphs);
        try {
            AtomicFiles.write(file, INDEX.writeValueAsBytes(root));
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Cannot serialise the graph index: " + e, e);
        }
    }
}
