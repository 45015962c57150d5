package org.circuittracer.onnx.export;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Set;
import onnx.Onnx.AttributeProto;
import onnx.Onnx.GraphProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.TensorProto;
import onnx.Onnx.TensorShapeProto;
import onnx.Onnx.TypeProto;
import onnx.Onnx.ValueInfoProto;

/**
 * Builds an ONNX graph node by node. Every node gets the name the caller gives it (the site maps find sites by node
 * name) and one output tensor named after the node, so a node's name says where its value sits in the model, as
 * {@code torch.onnx} names them ({@code /model/layers.0/mlp/down_proj/MatMul}).
 */
final class GraphBuilder {

    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private final Set<String> names = new HashSet<>();
    private int constants;

    GraphBuilder(String name) {
        graph.setName(name);
    }

    /** Adds node {@code name} of type {@code op}; returns the name of its (first) output. */
    String node(String name, String op, String... inputs) {
        return node(name, op, new AttributeProto[0], inputs);
    }

    /** Adds a node with attributes; returns its output name ({@code name + "_output_0"}). */
    String node(String name, String op, AttributeProto[] attributes, String... inputs) {
        if (!names.add(name)) {
            throw new IllegalStateException("duplicate node name " + name);
        }
        String output = name + "_output_0";
        NodeProto.Builder node = NodeProto.newBuilder().setName(name).setOpType(op).addOutput(output);
        for (String input : inputs) {
            node.addInput(input);
        }
        for (AttributeProto attribute : attributes) {
            node.addAttribute(attribute);
        }
        graph.addNode(node);
        return output;
    }

    /** Adds a node with several outputs (e.g. Split); returns their names. */
    String[] multiNode(String name, String op, int outputs, AttributeProto[] attributes, String... inputs) {
        if (!names.add(name)) {
            throw new IllegalStateException("duplicate node name " + name);
        }
        NodeProto.Builder node = NodeProto.newBuilder().setName(name).setOpType(op);
        String[] out = new String[outputs];
        for (int i = 0; i < outputs; i++) {
            out[i] = name + "_output_" + i;
            node.addOutput(out[i]);
        }
        for (String input : inputs) {
            node.addInput(input);
        }
        for (AttributeProto attribute : attributes) {
            node.addAttribute(attribute);
        }
        graph.addNode(node);
        return out;
    }

    /** Adds a node whose output has a fixed name (a graph output such as {@code logits}). */
    void namedOutputNode(String name, String op, String output, String... inputs) {
        NodeProto.Builder node = NodeProto.newBuilder().setName(name).setOpType(op).addOutput(output);
        for (String input : inputs) {
            node.addInput(input);
        }
        graph.addNode(node);
    }

    /** A float initializer of the given shape. */
    String floats(String name, float[] values, long... dims) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addAllDims(boxed(dims)).setRawData(ByteString.copyFrom(bytes.array())));
        return name;
    }

    /** A small int64 constant (shapes, axes, indices). */
    String longs(long... values) {
        String name = "const_i64_" + constants++;
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asLongBuffer().put(values);
        graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE)
                .addDims(values.length).setRawData(ByteString.copyFrom(bytes.array())));
        return name;
    }

    /** An int64 scalar constant. */
    String scalarLong(long value) {
        String name = "const_i64_" + constants++;
        ByteBuffer bytes = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value);
        graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE)
                .setRawData(ByteString.copyFrom(bytes.array())));
        return name;
    }

    /** A float scalar constant. */
    String scalar(float value) {
        String name = "const_f32_" + constants++;
        ByteBuffer bytes = ByteBuffer.allocate(Float.BYTES).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, value);
        graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(bytes.array())));
        return name;
    }

    /** A graph input; dimensions are numbers or symbolic names. */
    void input(String name, TensorProto.DataType type, Object... dims) {
        graph.addInput(valueInfo(name, type, dims));
    }

    /** A graph output. */
    void output(String name, TensorProto.DataType type, Object... dims) {
        graph.addOutput(valueInfo(name, type, dims));
    }

    GraphProto.Builder graph() {
        return graph;
    }

    static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    static AttributeProto integer(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    private static ValueInfoProto valueInfo(String name, TensorProto.DataType type, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object dim : dims) {
            TensorShapeProto.Dimension.Builder d = TensorShapeProto.Dimension.newBuilder();
            if (dim instanceof String symbol) {
                d.setDimParam(symbol);
            } else {
                d.setDimValue(((Number) dim).longValue());
            }
            shape.addDim(d);
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape))).build();
    }

    private static Iterable<Long> boxed(long[] dims) {
        return java.util.Arrays.stream(dims).boxed().toList();
    }
}
