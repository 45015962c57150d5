package org.circuittracer.backend.onnx.sitemap;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import onnx.Onnx.NodeProto;
import org.circuittracer.backend.onnx.graph.OnnxModelFile;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;

/**
 * A {@link SiteMap} applied to one graph: the tensor of every site the graph has, and where each weight is. Several
 * sites may name the same tensor (e.g. {@code blocks.0.hook_resid_post} and {@code blocks.1.hook_resid_pre}, or
 * {@code mlp.hook_out} and {@code hook_mlp_out} without post-norms).
 *
 * @param map         the map
 * @param tensors     site to tensor name, in forward order
 * @param weights     weight key with its layer filled in (e.g. {@code blocks.3.attn.W_V}) to its initializer
 */
public record ResolvedSites(SiteMap map, Map<HookSite, String> tensors, Map<String, Weight> weights) {

    /**
     * A weight found in the graph.
     *
     * @param initializer the initializer's name
     * @param splitIndex  the column block, or -1 for all columns
     * @param splitCount  the number of column blocks
     */
    public record Weight(String initializer, int splitIndex, int splitCount) {
    }

    /** Finds every site and weight of {@code map} in the graph of {@code file}. */
    public static ResolvedSites resolve(SiteMap map, OnnxModelFile file) {
        List<NodeProto> nodes = file.graph().getNodeList();
        Map<HookSite, String> tensors = new HashMap<>();
        map.sites().forEach((key, ref) -> match(ref, nodes).forEach((layer, tensor) -> {
            HookSite site = HookSite.parse(key.replace("{L}", Integer.toString(layer)));
            tensors.put(site, tensor);
        }));
        Map<String, Weight> weights = new HashMap<>();
        map.weights().forEach((key, ref) -> match(ref.tensor(), nodes).forEach((layer, tensor) -> {
            if (file.isInitializer(tensor)) {
                weights.put(key.replace("{L}", Integer.toString(layer)),
                        new Weight(tensor, ref.splitIndex(), ref.splitCount()));
            }
        }));
        Map<HookSite, String> ordered = new LinkedHashMap<>();
        tensors.keySet().stream().sorted(FORWARD_ORDER).forEach(site -> ordered.put(site, tensors.get(site)));
        return new ResolvedSites(map, ordered, Map.copyOf(weights));
    }

    public ResolvedSites {
        tensors = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /**
     * Forward order: the embeddings, then block by block in {@link SiteKind} order (which is forward order), then the
     * final norm, the unembedding input and the logits.
     */
    public static final Comparator<HookSite> FORWARD_ORDER = Comparator
            .comparingInt((HookSite s) -> s.kind() == SiteKind.EMBED || s.kind() == SiteKind.POS_EMBED ? 0
                    : s.kind().perLayer() ? 1 : 2)
            .thenComparingInt(s -> s.layer().orElse(0)) // groups 0 and 2 hold only global sites
            .thenComparing(HookSite::kind);

    /** The sites, in forward order. */
    public List<HookSite> sites() {
        return new ArrayList<>(tensors.keySet());
    }

    public Optional<Weight> weight(String key) {
        return Optional.ofNullable(weights.get(key));
    }

    /** Layer (or -1 when the pattern has no {@code {L}}) to the tensor of the node matching {@code ref}. */
    private static Map<Integer, String> match(SiteMap.TensorRef ref, List<NodeProto> nodes) {
        Pattern regex = SiteMap.regex(ref.node());
        Map<Integer, String> found = new HashMap<>();
        for (NodeProto node : nodes) {
            Matcher m = regex.matcher(node.getName());
            if (!m.matches()) {
                continue;
            }
            int layer = m.groupCount() > 0 ? Integer.parseInt(m.group(1)) : -1;
            String tensor = ref.input() >= 0
                    ? (ref.input() < node.getInputCount() ? node.getInput(ref.input()) : null)
                    : (ref.output() < node.getOutputCount() ? node.getOutput(ref.output()) : null);
            if (tensor != null && !tensor.isEmpty()) {
                found.putIfAbsent(layer, tensor);
            }
        }
        return found;
    }
}
