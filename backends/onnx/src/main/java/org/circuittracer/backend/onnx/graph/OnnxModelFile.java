package org.circuittracer.backend.onnx.graph;

import com.google.protobuf.CodedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import onnx.Onnx.GraphProto;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.StringStringEntryProto;
import onnx.Onnx.TensorProto;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * A parsed {@code model.onnx}: the graph (kept to derive hooked variants from) and its float initializers, read from
 * the file itself or from external data files beside it (Optimum's {@code model.onnx_data}).
 */
public final class OnnxModelFile {

    /** The model file in a model directory. */
    public static final String FILE = "model.onnx";

    private final Path directory;
    private final ModelProto model;
    private final Map<String, TensorProto> initializers = new HashMap<>();
    private final Map<String, NodeProto> nodesByName = new HashMap<>();

    private OnnxModelFile(Path directory, ModelProto model) {
        this.directory = directory;
        this.model = model;
        for (TensorProto t : model.getGraph().getInitializerList()) {
            initializers.put(t.getName(), t);
        }
        for (NodeProto n : model.getGraph().getNodeList()) {
            nodesByName.put(n.getName(), n);
        }
    }

    /**
     * Reads {@code directory/model.onnx}.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND without the file, MALFORMED_FILE when it is not an ONNX model
     */
    public static OnnxModelFile read(Path directory) {
        Path file = directory.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "No " + FILE + " in " + directory
                    + ". Give a directory with an ONNX export (model.onnx, config.json, tokenizer.json), e.g. one "
                    + "written by 'circuit-tracer export-onnx' or Hugging Face Optimum.");
        }
        try (InputStream in = Files.newInputStream(file)) {
            CodedInputStream coded = CodedInputStream.newInstance(in);
            coded.setSizeLimit(Integer.MAX_VALUE);
            ModelProto model = ModelProto.parseFrom(coded);
            if (!model.hasGraph() || model.getGraph().getNodeCount() == 0) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " holds no graph; it is "
                        + "not an ONNX model.");
            }
            return new OnnxModelFile(directory, model);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " is not a readable ONNX model ("
                    + e.getMessage() + "). Re-export it.", e);
        }
    }

    public Path directory() {
        return directory;
    }

    public ModelProto model() {
        return model;
    }

    public GraphProto graph() {
        return model.getGraph();
    }

    /** The bytes of all initializers (what one session holds). */
    public long weightBytes() {
        long bytes = 0;
        for (TensorProto t : initializers.values()) {
            long count = t.getDimsList().stream().mapToLong(Long::longValue).reduce(1, (a, b) -> a * b);
            bytes += count * (t.getDataType() == TensorProto.DataType.FLOAT_VALUE ? Float.BYTES : Long.BYTES);
        }
        return bytes;
    }

    /** Whether any initializer keeps its data in an external file. */
    public boolean hasExternalData() {
        return initializers.values().stream()
                .anyMatch(t -> t.getDataLocation() == TensorProto.DataLocation.EXTERNAL);
    }

    public Optional<NodeProto> node(String name) {
        return Optional.ofNullable(nodesByName.get(name));
    }

    public boolean isInitializer(String name) {
        return initializers.containsKey(name);
    }

    /** The dimensions of an initializer. */
    public long[] dims(String name) {
        return initializer(name).getDimsList().stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * The values of a float32 initializer, row-major.
     *
     * @throws CircuitTracerException MALFORMED_FILE when it is not float32 or its external data cannot be read
     */
    public float[] floats(String name) {
        TensorProto t = initializer(name);
        if (t.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
            throw malformed("initializer \"" + name + "\" has data type " + TensorProto.DataType.forNumber(
                    t.getDataType()) + "; the backend reads float32 weights only");
        }
        long count = Arrays.stream(dims(name)).reduce(1, (a, b) -> a * b);
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            return external(t, count);
        }
        if (!t.getRawData().isEmpty()) {
            float[] values = new float[(int) count];
            t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
            return values;
        }
        float[] values = new float[t.getFloatDataCount()];
        for (int i = 0; i < values.length; i++) {
            values[i] = t.getFloatData(i);
        }
        return values;
    }

    private float[] external(TensorProto t, long count) {
        Map<String, String> entries = new HashMap<>();
        for (StringStringEntryProto e : t.getExternalDataList()) {
            entries.put(e.getKey(), e.getValue());
        }
        String location = entries.get("location");
        Path file = location == null ? null : directory.resolve(location).normalize();
        if (file == null || !file.startsWith(directory.normalize())) {
            throw malformed("initializer \"" + t.getName() + "\" has external data outside the model directory ("
                    + location + ")");
        }
        long offset = Long.parseLong(entries.getOrDefault("offset", "0"));
        long length = Long.parseLong(entries.getOrDefault("length", Long.toString(count * Float.BYTES)));
        if (length != count * Float.BYTES) {
            throw malformed("initializer \"" + t.getName() + "\" has " + length + " bytes of external data for "
                    + count + " floats");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer bytes = channel.map(FileChannel.MapMode.READ_ONLY, offset, length).order(ByteOrder.LITTLE_ENDIAN);
            float[] values = new float[(int) count];
            bytes.asFloatBuffer().get(values);
            return values;
        } catch (IOException | IllegalArgumentException e) {
            throw malformed("the external data of initializer \"" + t.getName() + "\" (" + file + ", offset " + offset
                    + ") cannot be read: " + e.getMessage());
        }
    }

    private TensorProto initializer(String name) {
        TensorProto t = initializers.get(name);
        if (t == null) {
            throw malformed("\"" + name + "\" is not an initializer of the graph");
        }
        return t;
    }

    /** The names of the graph inputs. */
    public List<String> inputNames() {
        return model.getGraph().getInputList().stream().map(v -> v.getName()).toList();
    }

    /** The names of the graph outputs. */
    public List<String> outputNames() {
        return model.getGraph().getOutputList().stream().map(v -> v.getName()).toList();
    }

    public CircuitTracerException malformed(String problem) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, directory.resolve(FILE) + ": " + problem
                + ".");
    }
}
