package org.circuittracer.attribution.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.circuittracer.attribution.replacement.ReplacementActivations;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.SourceWrites;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;

/** What a graph's source nodes add to the residual stream, as attribution defines them (algorithm.md §3.3). */
final class GraphSources {

    private GraphSources() {
    }

    /** What each source node writes, in the order of {@code sourceOf}'s values. */
    static SourceWrites writes(NDManager manager, TransformerModel model, SparseDictionary dictionary,
                               List<Node> nodes, Map<Integer, Integer> sourceOf, ReplacementActivations activations,
                               SiteKind writeSite) {
        List<Integer> owners = new ArrayList<>();
        List<HookSite> sites = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        List<NDArray> vectors = new ArrayList<>();
        for (Map.Entry<Integer, Integer> entry : sourceOf.entrySet()) {
            Node node = nodes.get(entry.getKey());
            int owner = entry.getValue();
            if (node instanceof Node.FeatureNode f) {
                for (int output : dictionary.outputLayers(f.layer())) {
                    NDArray row = dictionary.decoderRows(manager, f.layer(), new int[] {f.feature()}, output)
                            .toType(DataType.FLOAT32, false).mul(f.activation());
                    add(owners, sites, positions, vectors, owner, HookSite.of(writeSite, output), f.position(), row);
                }
            } else if (node instanceof Node.ErrorNode err) {
                NDArray error = activations.errors().get(new NDIndex("{}, {}:{}", err.layer(), err.position(),
                        err.position() + 1));
                add(owners, sites, positions, vectors, owner, HookSite.of(writeSite, err.layer()), err.position(),
                        error);
            } else if (node instanceof Node.TokenNode token) {
                NDArray embedding = activations.tokenVectors().get(new NDIndex("{}:{}", token.position(),
                        token.position() + 1));
                add(owners, sites, positions, vectors, owner, HookSite.global(SiteKind.EMBED), token.position(),
                        embedding);
            } else {
                throw CircuitTracerException.invalidArgument("Node " + node + " is not a source of edges.");
            }
        }
        int width = model.config().modelWidth();
        NDArray stacked = vectors.isEmpty() ? manager.zeros(new Shape(0, width))
                : ai.djl.ndarray.NDArrays.concat(new ai.djl.ndarray.NDList(
                        vectors.stream().map(v -> v.reshape(1, width)).toArray(NDArray[]::new)), 0);
        return new SourceWrites(sourceOf.size(), owners.stream().mapToInt(Integer::intValue).toArray(), sites,
                positions.stream().mapToInt(Integer::intValue).toArray(), stacked);
    }

    private static void add(List<Integer> owners, List<HookSite> sites, List<Integer> positions,
                            List<NDArray> vectors, int owner, HookSite site, int position, NDArray vector) {
        owners.add(owner);
        sites.add(site);
        positions.add(position);
        vectors.add(vector);
    }
}
