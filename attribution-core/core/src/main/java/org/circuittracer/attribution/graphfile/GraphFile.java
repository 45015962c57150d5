package org.circuittracer.attribution.graphfile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.circuittracer.attribution.attention.GraphHeadLoadings;
import org.circuittracer.attribution.io.EdgeMemory;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.SafetensorsFormatException;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.safetensors.TensorInfo;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.EdgeMatrix;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.HeadLoadings;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;

/**
 * Saves and loads an {@link AttributionGraph} losslessly (loading gives a graph {@code equals} to the saved one).
 *
 * <p>Layout (format {@value #FORMAT}, version {@value #FORMAT_VERSION}): a safetensors file with the tensors
 * <ul>
 *   <li>{@code tokens} I32 [T]; {@code active_features} I32 [N_act, 3] = (layer, position, feature);
 *       {@code activations} F32 [N_act]; {@code selected} I32 [M] (active indices of the feature nodes);</li>
 *   <li>{@code adjacency.row_start} I32 [N + 1], {@code adjacency.columns} I32 [nnz], {@code adjacency.weights} F32
 *       [nnz] (CSR, {@code A[target, source]});</li>
 *   <li>{@code logit_ids} I32 [K], {@code logit_positions} I32 [K], {@code logit_weights} F32 [K];</li>
 * </ul>
 * and the {@code __metadata__} entries {@code format}, {@code format_version} and {@code graph}, the last a JSON
 * object: {@code model} (the {@link ModelConfig} fields), {@code input_string}, {@code logit_labels},
 * {@code vocabulary_size}, {@code scan}.
 *
 * <p>Optionally (written by {@code attribute --head-loadings}, ignored by readers that do not ask for them), the head
 * loadings of the exported graph's links, every head: {@code head_loadings.targets} and {@code head_loadings.sources}
 * I32 [E] (node indices), {@code head_loadings.values} F32 [E, L, H], {@code head_loadings.bypass} F32 [E, L],
 * {@code head_loadings.totals} F32 [E], and the metadata entry {@code head_loadings}, a JSON object
 * {@code {"top_k": K}}: how many heads per layer the graph JSON shows.
 *
 * <p>Errors: a missing file is FILE_NOT_FOUND; a file of another format version is UNSUPPORTED_FORMAT_VERSION (saying
 * whether it is older or newer); anything else unreadable (not safetensors, truncated, missing or inconsistent arrays,
 * bad JSON, not a graph file) is MALFORMED_FILE.
 */
public final class GraphFile {

    /** {@code __metadata__["format"]}. */
    public static final String FORMAT = "circuit-tracer-graph";
    /** The version this build writes. */
    public static final int FORMAT_VERSION = 1;
    /** The oldest version this build reads. */
    public static final int MIN_FORMAT_VERSION = 1;

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private GraphFile() {
    }

    /** Writes {@code graph} to {@code file} atomically (replacing it). */
    public static void save(AttributionGraph graph, Path file) {
        writer(graph).write(file);
        // a file-backed adjacency deletes its file once unreachable; the writer reads that file, so keep it alive
        java.lang.ref.Reference.reachabilityFence(graph);
    }

    /** Head loadings kept in a graph file, and how many heads per layer its graph JSON shows. */
    public record StoredHeadLoadings(GraphHeadLoadings loadings, int topK) {
    }

    /** Writes {@code graph} with the head loadings of its exported links to {@code file} atomically. */
    public static void save(AttributionGraph graph, StoredHeadLoadings heads, Path file) {
        HeadLoadings h = heads.loadings().loadings();
        long e = h.edges();
        writer(graph)
                .metadata("head_loadings", "{\"top_k\": " + heads.topK() + "}")
                .addInts("head_loadings.targets", DType.I32, new long[] {e}, heads.loadings().targets())
                .addInts("head_loadings.sources", DType.I32, new long[] {e}, heads.loadings().sources())
                .addFloats("head_loadings.values", new long[] {e, h.layers(), h.heads()}, h.loadings())
                .addFloats("head_loadings.bypass", new long[] {e, h.layers()}, h.bypass())
                .addFloats("head_loadings.totals", new long[] {e}, h.totals())
                .write(file);
        java.lang.ref.Reference.reachabilityFence(graph);
    }

    /**
     * The head loadings a graph file holds, if any.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND, or MALFORMED_FILE when they are inconsistent
     */
    public static java.util.Optional<StoredHeadLoadings> loadHeadLoadings(Path file) {
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            String described = st.metadata().get("head_loadings");
            if (described == null) {
                return java.util.Optional.empty();
            }
            JsonNode meta = MAPPER.readTree(described);
            TensorInfo values = st.info("head_loadings.values");
            if (values.rank() != 3 || values.dtype() != DType.F32) {
                throw malformed(file, "head_loadings.values has shape " + values.shapeString() + ", expected F32 "
                        + "[edges, layers, heads]", null);
            }
            long[] shape = values.shape();
            HeadLoadings h = new HeadLoadings((int) shape[0], (int) shape[1], (int) shape[2],
                    st.readFloats("head_loadings.values"), st.readFloats("head_loadings.bypass"),
                    st.readFloats("head_loadings.totals"));
            GraphHeadLoadings loadings = new GraphHeadLoadings(vector(st, "head_loadings.targets", file),
                    vector(st, "head_loadings.sources", file), h);
            return java.util.Optional.of(new StoredHeadLoadings(loadings, integer(meta, "top_k", file)));
        } catch (IOException e) {
            throw malformed(file, "its head_loadings metadata is not valid JSON (" + e.getMessage() + ")", e);
        } catch (SafetensorsFormatException | IllegalArgumentException e) {
            throw malformed(file, "its head loadings are inconsistent: " + e.getMessage(), e);
        } catch (CircuitTracerException e) {
            if (e.errorCode() == StandardErrorCode.INVALID_ARGUMENT) {
                throw malformed(file, "its head loadings are inconsistent: " + e.getMessage(), e);
            }
            throw e;
        }
    }

    /** The writer for {@code graph}'s file (package-private for tests that build odd files). */
    static SafetensorsWriter writer(AttributionGraph graph) {
        List<Node.FeatureNode> active = graph.activeFeatures();
        int nAct = active.size();
        int[] triples = new int[nAct * 3];
        float[] activations = new float[nAct];
        for (int i = 0; i < nAct; i++) {
            Node.FeatureNode f = active.get(i);
            if (f.activeIndex() != i) {
                throw invalid("active feature " + i + " has activeIndex " + f.activeIndex() + "; the graph file stores "
                        + "active features by their index, so activeIndex must equal the list index");
            }
            triples[3 * i] = f.layer();
            triples[3 * i + 1] = f.position();
            triples[3 * i + 2] = f.feature();
            activations[i] = f.activation();
        }
        int[] selected = new int[graph.selected().size()];
        for (int j = 0; j < selected.length; j++) {
            Node.FeatureNode s = graph.selected().get(j);
            if (s.activeIndex() >= nAct || !s.equals(active.get(s.activeIndex()))) {
                throw invalid("selected feature " + j + " (" + s + ") is not the active feature at its activeIndex; "
                        + "the graph file stores feature nodes as active indices");
            }
            selected[j] = s.activeIndex();
        }
        List<Node.LogitNode> logits = graph.logits();
        int k = logits.size();
        int[] logitIds = new int[k];
        int[] logitPositions = new int[k];
        float[] logitWeights = new float[k];
        for (int i = 0; i < k; i++) {
            Node.LogitNode l = logits.get(i);
            logitIds[i] = l.vocabIndex();
            logitPositions[i] = l.position();
            logitWeights[i] = l.weight();
        }
        EdgeMatrix a = graph.adjacency();
        String json = writerMetadata(graph);
        SafetensorsWriter writer = new SafetensorsWriter().order(SafetensorsWriter.Order.NAME);
        long[] entries = {a.nonZeros()};
        if (a.entries() instanceof EdgeMatrix.OnDisk disk) {
            // copied from the matrix's file while writing: never all in memory
            writer.add("adjacency.columns", DType.I32, entries, disk.file(), disk.columnsOffset())
                    .add("adjacency.weights", DType.F32, entries, disk.file(), disk.weightsOffset());
        } else {
            EdgeMatrix.InMemory held = (EdgeMatrix.InMemory) a.entries();
            // the writer encodes these arrays when it writes (no copy); nothing changes them
            writer.addInts("adjacency.columns", DType.I32, entries, held.columns())
                    .addFloats("adjacency.weights", entries, held.weights());
        }
        return writer
                .metadata("format", FORMAT)
                .metadata("format_version", Integer.toString(FORMAT_VERSION))
                .metadata("graph", json)
                .addInts("tokens", DType.I32, new long[] {graph.tokens().length()}, graph.tokens().ids())
                .addInts("active_features", DType.I32, new long[] {nAct, 3}, triples)
                .addFloats("activations", new long[] {nAct}, activations)
                .addInts("selected", DType.I32, new long[] {selected.length}, selected)
                .addInts("adjacency.row_start", DType.I32, new long[] {a.size() + 1L}, a.rowStart())
                .addInts("logit_ids", DType.I32, new long[] {k}, logitIds)
                .addInts("logit_positions", DType.I32, new long[] {k}, logitPositions)
                .addFloats("logit_weights", new long[] {k}, logitWeights);
    }

    /** The JSON of the {@code graph} metadata entry. */
    static String writerMetadata(AttributionGraph graph) {
        ObjectNode meta = JsonNodeFactory.instance.objectNode();
        ObjectNode model = meta.putObject("model");
        ModelConfig c = graph.model();
        model.put("model_name", c.modelName());
        model.put("architecture", c.architecture());
        model.put("layers", c.layers());
        model.put("model_width", c.modelWidth());
        model.put("heads", c.heads());
        model.put("key_value_heads", c.keyValueHeads());
        model.put("head_width", c.headWidth());
        model.put("mlp_width", c.mlpWidth());
        model.put("vocabulary_size", c.vocabularySize());
        model.put("max_positions", c.maxPositions());
        meta.put("input_string", graph.inputString());
        ArrayNode labels = meta.putArray("logit_labels");
        for (int i = 0; i < graph.logits().size(); i++) {
            labels.add(graph.logits().get(i).label());
        }
        meta.put("vocabulary_size", graph.vocabularySize());
        meta.put("scan", graph.scan());
        try {
            return MAPPER.writeValueAsString(meta);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "cannot serialise graph metadata: " + e, e);
        }
    }

    /**
     * Reads a graph file.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND, UNSUPPORTED_FORMAT_VERSION or MALFORMED_FILE (see the class doc)
     */
    public static AttributionGraph load(Path file) {
        SafetensorsFile st;
        try {
            st = SafetensorsFile.open(file);
        } catch (SafetensorsFormatException e) {
            if (e.errorCode() == StandardErrorCode.MALFORMED_FILE) {
                throw malformed(file, "it is not a readable safetensors file (" + e.getMessage() + ")", e);
            }
            throw e;
        }
        try (st) {
            Map<String, String> metadata = st.metadata();
            String format = metadata.get("format");
            if (!FORMAT.equals(format)) {
                throw malformed(file, "it is not a circuit-tracer graph file (__metadata__ format is "
                        + (format == null ? "missing" : "'" + format + "'") + ", expected '" + FORMAT + "')", null);
            }
            checkVersion(file, metadata.get("format_version"));
            JsonNode meta;
            try {
                meta = MAPPER.readTree(metadata.getOrDefault("graph", ""));
            } catch (IOException e) {
                throw malformed(file, "its 'graph' metadata is not valid JSON (" + e.getMessage() + ")", e);
            }
            if (meta == null || !meta.isObject()) {
                throw malformed(file, "its 'graph' metadata is missing or not a JSON object", null);
            }
            return read(st, meta, file);
        } catch (SafetensorsFormatException e) {
            throw malformed(file, e.getMessage(), e);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw malformed(file, "its contents are inconsistent: " + e.getMessage(), e);
        } catch (CircuitTracerException e) {
            if (e.errorCode() == StandardErrorCode.INVALID_ARGUMENT) {
                throw malformed(file, "its contents are inconsistent: " + e.getMessage(), e);
            }
            throw e;
        }
    }

    private static void checkVersion(Path file, String text) {
        int version;
        try {
            version = Integer.parseInt(text == null ? "" : text.trim());
        } catch (NumberFormatException e) {
            throw malformed(file, "its format_version is " + (text == null ? "missing" : "'" + text + "'")
                    + ", not an integer", e);
        }
        if (version > FORMAT_VERSION) {
            throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_FORMAT_VERSION, file + ": graph file format "
                    + "version " + version + " is newer than this build reads (" + MIN_FORMAT_VERSION + " to "
                    + FORMAT_VERSION + "); upgrade circuit-tracer to read it.");
        }
        if (version < MIN_FORMAT_VERSION) {
            throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_FORMAT_VERSION, file + ": graph file format "
                    + "version " + version + " is older than this build reads (" + MIN_FORMAT_VERSION + " to "
                    + FORMAT_VERSION + "); re-run the attribution, or convert it with the version that wrote it.");
        }
    }

    private static AttributionGraph read(SafetensorsFile st, JsonNode meta, Path file) {
        JsonNode m = require(meta, "model", file);
        ModelConfig model = new ModelConfig(text(m, "model_name", file), text(m, "architecture", file),
                integer(m, "layers", file), integer(m, "model_width", file), integer(m, "heads", file),
                integer(m, "key_value_heads", file), integer(m, "head_width", file), integer(m, "mlp_width", file),
                integer(m, "vocabulary_size", file), integer(m, "max_positions", file));
        TokenSequence tokens = new TokenSequence(vector(st, "tokens", file));
        int[] triples = ints(st, "active_features", file);
        float[] activations = st.readFloats("activations");
        if (triples.length != activations.length * 3) {
            throw malformed(file, "active_features has " + triples.length / 3 + " rows but activations has "
                    + activations.length + " entries", null);
        }
        List<Node.FeatureNode> active = new ArrayList<>(activations.length);
        for (int i = 0; i < activations.length; i++) {
            active.add(new Node.FeatureNode(triples[3 * i], triples[3 * i + 1], triples[3 * i + 2], activations[i], i));
        }
        int[] selectedIds = vector(st, "selected", file);
        List<Node.FeatureNode> selected = new ArrayList<>(selectedIds.length);
        for (int j : selectedIds) {
            if (j < 0 || j >= active.size()) {
                throw malformed(file, "selected names active feature " + j + " of " + active.size(), null);
            }
            selected.add(active.get(j));
        }
        int[] rowStart = vector(st, "adjacency.row_start", file);
        if (rowStart.length == 0) {
            throw malformed(file, "adjacency.row_start is empty", null);
        }
        EdgeMatrix adjacency = adjacency(st, rowStart, file);
        int[] logitIds = vector(st, "logit_ids", file);
        int[] logitPositions = vector(st, "logit_positions", file);
        float[] logitWeights = st.readFloats("logit_weights");
        JsonNode labels = require(meta, "logit_labels", file);
        if (!labels.isArray() || labels.size() != logitIds.length || logitPositions.length != logitIds.length
                || logitWeights.length != logitIds.length) {
            throw malformed(file, "logit_ids, logit_positions, logit_weights and logit_labels differ in length", null);
        }
        List<Node.LogitNode> logits = new ArrayList<>(logitIds.length);
        for (int i = 0; i < logitIds.length; i++) {
            if (!labels.get(i).isTextual()) {
                throw malformed(file, "logit label " + i + " is not a string", null);
            }
            logits.add(new Node.LogitNode(logitPositions[i], logitIds[i], labels.get(i).asText(), logitWeights[i]));
        }
        return new AttributionGraph(model, tokens, text(meta, "input_string", file), active, selected, logits,
                adjacency, integer(meta, "vocabulary_size", file), text(meta, "scan", file));
    }

    /**
     * The edges, in memory when they fit the {@link EdgeMemory} budget, else read from this file's own data regions on
     * each pass (validated once): a graph with every feature of a long prompt has more edges than the heap holds.
     */
    private static EdgeMatrix adjacency(SafetensorsFile st, int[] rowStart, Path file) {
        TensorInfo columns = st.info("adjacency.columns");
        TensorInfo weights = st.info("adjacency.weights");
        long bytes = columns.byteSize() + weights.byteSize();
        if (bytes <= EdgeMemory.fromSystem().budgetBytes() || columns.rank() != 1 || weights.rank() != 1
                || columns.dtype() != DType.I32 || weights.dtype() != DType.F32) {
            return new EdgeMatrix(rowStart.length - 1, rowStart, vector(st, "adjacency.columns", file),
                    st.readFloats("adjacency.weights"));
        }
        if (columns.numel() != weights.numel()) {
            throw malformed(file, "adjacency.columns has " + columns.numel() + " entries but adjacency.weights has "
                    + weights.numel(), null);
        }
        try {
            return EdgeMatrix.onDisk(rowStart.length - 1, rowStart, st.path(), st.dataOffset() + columns.dataBegin(),
                    st.dataOffset() + weights.dataBegin(), false, true);
        } catch (UncheckedIOException e) {
            throw malformed(file, "its edges cannot be read: " + e.getMessage(), e);
        }
    }

    private static int[] vector(SafetensorsFile st, String name, Path file) {
        if (st.info(name).rank() != 1) {
            throw malformed(file, "tensor '" + name + "' has shape " + st.info(name).shapeString()
                    + ", expected one dimension", null);
        }
        return ints(st, name, file);
    }

    private static int[] ints(SafetensorsFile st, String name, Path file) {
        if (st.info(name).dtype() != DType.I32) {
            throw malformed(file, "tensor '" + name + "' is " + st.info(name).dtype() + ", expected I32", null);
        }
        return st.readInts(name);
    }

    private static JsonNode require(JsonNode node, String field, Path file) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw malformed(file, "its graph metadata lacks '" + field + "'", null);
        }
        return v;
    }

    private static String text(JsonNode node, String field, Path file) {
        JsonNode v = require(node, field, file);
        if (!v.isTextual()) {
            throw malformed(file, "graph metadata field '" + field + "' is not a string", null);
        }
        return v.asText();
    }

    private static int integer(JsonNode node, String field, Path file) {
        JsonNode v = require(node, field, file);
        if (!v.isInt()) {
            throw malformed(file, "graph metadata field '" + field + "' is not a 32-bit integer", null);
        }
        return v.asInt();
    }

    private static CircuitTracerException malformed(Path file, String what, Throwable cause) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " cannot be read as a graph file: "
                + what + ".", cause);
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Cannot save the graph: " + message + ".");
    }
}
