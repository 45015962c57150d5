package org.circuittracer.viewer.graph;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.viewer.ViewerErrors;
import org.circuittracer.viewer.files.ServedDirectory;

/**
 * {@code features-across-graphs.json} of the graph directory, which {@code circuit-tracer batch} writes beside its
 * graphs: the features ranked by how many graphs they appear in. Checked before it is served, so the page can trust
 * its shape and a broken file is a clear 400, not a page that fails somewhere in its script.
 */
public final class FeaturesAcrossGraphs {

    public static final String FILE_NAME = "features-across-graphs.json";

    /** Far above what the batch writes (5,000 features, 50 graphs each); a bigger file is not ours. */
    static final long MAX_BYTES = 256L * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ServedDirectory directory;

    public FeaturesAcrossGraphs(ServedDirectory directory) {
        this.directory = directory;
    }

    /** Whether the directory holds the file (the page links to the view only then). */
    public boolean exists() {
        try {
            return Files.isRegularFile(directory.resolve(FILE_NAME));
        } catch (CircuitTracerException e) {
            return false; // a link leaving the directory: as good as absent
        }
    }

    /**
     * @throws CircuitTracerException NOT_FOUND without the file (saying how to make it), MALFORMED_FILE when it is not
     *         JSON of the expected shape (the message says where)
     */
    public JsonNode load() {
        Path file = directory.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw ViewerErrors.notFound("No " + FILE_NAME + " in " + directory.root() + ". Run `circuit-tracer batch "
                    + "--prompts FILE --out DIR` and serve DIR/graphs: it writes the features shared across the "
                    + "batch's graphs there.");
        }
        JsonNode doc;
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw malformed("is " + Files.size(file) + " bytes, more than the " + MAX_BYTES + " this view reads");
            }
            doc = JSON.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw malformed("is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.CharConversionException e) {
            throw malformed("is not UTF-8 text (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw ViewerErrors.notFound("Cannot read " + FILE_NAME + ": " + e.getMessage());
        }
        check(doc);
        return doc;
    }

    private static void check(JsonNode doc) {
        if (doc == null || !doc.isObject() || !doc.path("features").isArray()) {
            throw malformed("is not an object with a \"features\" array");
        }
        JsonNode rows = doc.get("features");
        for (int i = 0; i < rows.size(); i++) {
            JsonNode r = rows.get(i);
            String where = "features[" + i + "]";
            if (!r.isObject()) {
                throw malformed("has " + where + " that is not an object");
            }
            for (String field : new String[] {"layer", "feature", "graphs"}) {
                if (!r.path(field).canConvertToInt() || !r.path(field).isIntegralNumber() || r.get(field).asInt() < 0) {
                    throw malformed("has " + where + "." + field + " that is not a non-negative integer");
                }
            }
            JsonNode in = r.path("appears_in");
            if (!in.isArray()) {
                throw malformed("has " + where + ".appears_in that is not an array");
            }
            for (int j = 0; j < in.size(); j++) {
                if (!in.get(j).path("slug").isTextual()) {
                    throw malformed("has " + where + ".appears_in[" + j + "] without a \"slug\" string");
                }
                JsonNode ids = in.get(j).path("node_ids");
                if (!ids.isMissingNode() && !ids.isArray()) {
                    throw malformed("has " + where + ".appears_in[" + j + "].node_ids that is not an array");
                }
            }
        }
    }

    private static CircuitTracerException malformed(String what) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, FILE_NAME + " " + what
                + ". Run `circuit-tracer batch` again to rewrite it, or remove it.");
    }
}
