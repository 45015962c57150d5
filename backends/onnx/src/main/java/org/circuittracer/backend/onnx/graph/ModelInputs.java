package org.circuittracer.backend.onnx.graph;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import onnx.Onnx.TensorShapeProto;
import onnx.Onnx.ValueInfoProto;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * The standard inputs and outputs of a decoder-only export (Optimum's {@code text-generation-with-past} layout):
 * {@code input_ids}, optional {@code attention_mask} and {@code position_ids}, and, when the model has a key/value
 * cache, {@code past_key_values.L.key}/{@code .value} in and {@code present.L.key}/{@code .value} out.
 */
public final class ModelInputs {

    public static final String INPUT_IDS = "input_ids";
    public static final String ATTENTION_MASK = "attention_mask";
    public static final String POSITION_IDS = "position_ids";
    public static final String LOGITS = "logits";

    private final boolean attentionMask;
    private final boolean positionIds;
    private final int layers;
    private final boolean cache;
    private final long[][] pastShapes; // per past input [KV, h], batch and length free

    private ModelInputs(boolean attentionMask, boolean positionIds, int layers, boolean cache, long[][] pastShapes) {
        this.attentionMask = attentionMask;
        this.positionIds = positionIds;
        this.layers = layers;
        this.cache = cache;
        this.pastShapes = pastShapes;
    }

    /**
     * Reads the inputs of {@code file}'s graph.
     *
     * @throws CircuitTracerException MALFORMED_FILE without {@code input_ids} or {@code logits}, or with a partial or
     *         misshaped key/value cache
     */
    public static ModelInputs of(OnnxModelFile file, int layers) {
        Map<String, ValueInfoProto> inputs = new HashMap<>();
        file.graph().getInputList().forEach(v -> inputs.put(v.getName(), v));
        if (!inputs.containsKey(INPUT_IDS) || !file.outputNames().contains(LOGITS)) {
            throw file.malformed("a decoder export needs the input \"input_ids\" and the output \"logits\" (inputs: "
                    + inputs.keySet() + ", outputs: " + file.outputNames() + ")");
        }
        long[][] pastShapes = new long[2 * layers][];
        int found = 0;
        for (int layer = 0; layer < layers; layer++) {
            for (int part = 0; part < 2; part++) {
                String name = past(layer, part);
                ValueInfoProto info = inputs.get(name);
                if (info == null) {
                    continue;
                }
                if (!file.outputNames().contains(present(layer, part))) {
                    throw file.malformed("it has the input \"" + name + "\" but not the output \""
                            + present(layer, part) + "\"");
                }
                TensorShapeProto shape = info.getType().getTensorType().getShape();
                if (shape.getDimCount() != 4 || !shape.getDim(1).hasDimValue() || !shape.getDim(3).hasDimValue()) {
                    throw file.malformed("\"" + name + "\" must be [batch, key/value heads, past length, head width] "
                            + "with fixed heads and width");
                }
                pastShapes[2 * layer + part] = new long[] {shape.getDim(1).getDimValue(), shape.getDim(3).getDimValue()};
                found++;
            }
        }
        if (found != 0 && found != 2 * layers) {
            throw file.malformed("it has " + found + " of the " + 2 * layers + " past_key_values inputs of a "
                    + layers + "-layer model");
        }
        return new ModelInputs(inputs.containsKey(ATTENTION_MASK), inputs.containsKey(POSITION_IDS), layers,
                found > 0, pastShapes);
    }

    /** Whether the export has a key/value cache. */
    public boolean hasCache() {
        return cache;
    }

    public static String past(int layer, int part) {
        return "past_key_values." + layer + "." + (part == 0 ? "key" : "value");
    }

    public static String present(int layer, int part) {
        return "present." + layer + "." + (part == 0 ? "key" : "value");
    }

    /** The names of the present outputs. */
    public List<String> presentNames() {
        List<String> names = new ArrayList<>();
        if (cache) {
            for (int layer = 0; layer < layers; layer++) {
                names.add(present(layer, 0));
                names.add(present(layer, 1));
            }
        }
        return names;
    }

    /**
     * The inputs of a pass over {@code ids} at positions {@code first …}: ids, mask and positions, and the past keys and
     * values ({@code past} from the previous pass's presents, or empty ones).
     *
     * @param past the previous pass's outputs by name, or null for an empty cache
     * @return the created tensors (close them after the run; past values are not copied and not included)
     */
    public Map<String, OnnxTensor> create(OrtEnvironment env, int[] ids, int first, Map<String, OnnxValue> past,
                                          Map<String, OnnxTensor> feed) {
        Map<String, OnnxTensor> created = new HashMap<>();
        try {
            long[] idValues = new long[ids.length];
            long[] positions = new long[ids.length];
            for (int i = 0; i < ids.length; i++) {
                idValues[i] = ids[i];
                positions[i] = first + i;
            }
            created.put(INPUT_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(idValues), new long[] {1, ids.length}));
            if (attentionMask) {
                long[] ones = new long[first + ids.length];
                java.util.Arrays.fill(ones, 1);
                created.put(ATTENTION_MASK, OnnxTensor.createTensor(env, LongBuffer.wrap(ones),
                        new long[] {1, ones.length}));
            }
            if (positionIds) {
                created.put(POSITION_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(positions),
                        new long[] {1, ids.length}));
            }
            if (cache) {
                for (int layer = 0; layer < layers; layer++) {
                    for (int part = 0; part < 2; part++) {
                        if (past == null) {
                            long[] s = pastShapes[2 * layer + part];
                            created.put(past(layer, part), OnnxTensor.createTensor(env, FloatBuffer.allocate(0),
                                    new long[] {1, s[0], 0, s[1]}));
                        } else {
                            feed.put(past(layer, part), (OnnxTensor) past.get(present(layer, part)));
                        }
                    }
                }
            }
        } catch (OrtException e) {
            created.values().forEach(OnnxTensor::close);
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Cannot create input tensors: "
                    + e.getMessage(), e);
        }
        feed.putAll(created);
        return created;
    }
}
