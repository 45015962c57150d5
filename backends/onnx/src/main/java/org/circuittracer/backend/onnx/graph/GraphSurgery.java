package org.circuittracer.backend.onnx.graph;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import onnx.Onnx.GraphProto;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.TensorProto;
import onnx.Onnx.TypeProto;
import onnx.Onnx.ValueInfoProto;
import org.circuittracer.spi.site.HookSite;

/**
 * Rewrites a graph so that hooks can act inside it: for every hooked tensor {@code t}, the node that produces it now
 * produces {@code t/pre_hooks}, and a chain of nodes, one per hook step in forward order of the sites that name
 * {@code t}, leads from there back to {@code t}, which every consumer (and graph output) still reads:
 *
 * <pre>
 * producer ─► t/pre_hooks ─[Where(mask, values, ·)]─► ... ─[Add(·, delta)]─► ... ─Identity─► t ─► consumers
 *                        └─ captured values are graph outputs at their point in the chain
 * </pre>
 *
 * Replace and add steps get graph inputs ({@link HookSignature#maskInput} etc.); captures become graph outputs.
 */
public final class GraphSurgery {

    private GraphSurgery() {
    }

    /**
     * The rewritten model and the output names of its captures.
     *
     * @param model    the model with hook inputs and capture outputs
     * @param captures (site, step index) of every capture step to its graph output
     */
    public record Result(ModelProto model, Map<StepId, String> captures) {
    }

    /**
     * One step of a signature.
     *
     * @param site the site
     * @param step its index among the site's steps
     */
    public record StepId(HookSite site, int step) {
    }

    /**
     * Applies {@code signature} to {@code model}.
     *
     * @param tensors the tensor of every site ({@link org.circuittracer.backend.onnx.sitemap.ResolvedSites#tensors()})
     */
    public static Result apply(ModelProto model, Map<HookSite, String> tensors, HookSignature signature) {
        if (signature.sites().isEmpty()) {
            return new Result(model, Map.of());
        }
        // the steps of every hooked tensor, in forward order of its sites (the signature is in forward order)
        Map<String, List<HookSignature.SiteSteps>> byTensor = new LinkedHashMap<>();
        for (HookSignature.SiteSteps steps : signature.sites()) {
            String tensor = tensors.get(steps.site());
            if (tensor == null) {
                throw new IllegalArgumentException("no tensor for site " + steps.site());
            }
            byTensor.computeIfAbsent(tensor, t -> new ArrayList<>()).add(steps);
        }
        GraphProto graph = model.getGraph();
        GraphProto.Builder out = graph.toBuilder().clearNode();
        Set<String> outputs = new HashSet<>();
        graph.getOutputList().forEach(o -> outputs.add(o.getName()));
        Map<StepId, String> captures = new HashMap<>();
        Set<String> placed = new HashSet<>();
        for (NodeProto node : graph.getNodeList()) {
            NodeProto.Builder rewritten = node.toBuilder();
            List<String> chained = new ArrayList<>();
            for (int i = 0; i < node.getOutputCount(); i++) {
                if (byTensor.containsKey(node.getOutput(i))) {
                    rewritten.setOutput(i, preHooks(node.getOutput(i)));
                    chained.add(node.getOutput(i));
                }
            }
            out.addNode(rewritten);
            for (String tensor : chained) {
                chain(out, tensor, byTensor.get(tensor), captures, outputs);
                placed.add(tensor);
            }
        }
        if (placed.size() != byTensor.size()) {
            Set<String> missing = new HashSet<>(byTensor.keySet());
            missing.removeAll(placed);
            throw new IllegalArgumentException("hooked tensors without a producing node: " + missing);
        }
        return new Result(model.toBuilder().setGraph(out).build(), Map.copyOf(captures));
    }

    private static void chain(GraphProto.Builder graph, String tensor, List<HookSignature.SiteSteps> sites,
                              Map<StepId, String> captures, Set<String> outputs) {
        String current = preHooks(tensor);
        int counter = 0;
        for (HookSignature.SiteSteps steps : sites) {
            HookSite site = steps.site();
            for (int i = 0; i < steps.steps().size(); i++) {
                switch (steps.steps().get(i)) {
                    case CAPTURE -> {
                        captures.put(new StepId(site, i), current);
                        if (outputs.add(current)) {
                            graph.addOutput(ValueInfoProto.newBuilder().setName(current));
                        }
                    }
                    case REPLACE -> {
                        String mask = HookSignature.maskInput(site, i);
                        String values = HookSignature.valuesInput(site, i);
                        graph.addInput(input(mask, TensorProto.DataType.BOOL));
                        graph.addInput(input(values, TensorProto.DataType.FLOAT));
                        String next = tensor + "/hook_" + counter++;
                        graph.addNode(NodeProto.newBuilder().setName("hooks/" + site + "/" + i + "/Where")
                                .setOpType("Where").addInput(mask).addInput(values).addInput(current).addOutput(next));
                        current = next;
                    }
                    case ADD -> {
                        String delta = HookSignature.deltaInput(site, i);
                        graph.addInput(input(delta, TensorProto.DataType.FLOAT));
                        String next = tensor + "/hook_" + counter++;
                        graph.addNode(NodeProto.newBuilder().setName("hooks/" + site + "/" + i + "/Add")
                                .setOpType("Add").addInput(current).addInput(delta).addOutput(next));
                        current = next;
                    }
                }
            }
        }
        graph.addNode(NodeProto.newBuilder().setName("hooks/" + tensor + "/Identity").setOpType("Identity")
                .addInput(current).addOutput(tensor));
    }

    private static String preHooks(String tensor) {
        return tensor + "/pre_hooks";
    }

    private static ValueInfoProto input(String name, TensorProto.DataType type) {
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type.getNumber()))).build();
    }
}
