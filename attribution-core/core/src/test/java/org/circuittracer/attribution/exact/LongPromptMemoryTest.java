package org.circuittracer.attribution.exact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.replacement.ReplacementActivations;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.EdgeMatrix;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.SeedSite;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.model.VjpResult;
import org.circuittracer.spi.model.VjpSeeds;
import org.junit.jupiter.api.Test;

/**
 * A 1,024-token prompt on the tiny llama (issue 5, docs/reference/algorithm.md §3.11): the attribution completes in a bounded heap.
 * Runs in its own surefire execution with {@code -Xmx512m} (see the module's pom); the default execution skips it.
 *
 * <p>Sampled edges are checked against a one-lane, dense oracle: the direct effect of a source on a feature row is
 * recomputed from a single-lane VJP of the linearised model and the source's write vector, without the attributor's
 * batching, gathering or sparse rows.
 */
class LongPromptMemoryTest {

    static final int LENGTH = 1024;

    @Test
    void aThousandTokenPromptRunsInABoundedHeapAndItsEdgesStayExact() throws Exception {
        try (TransformerModel model = TinyFixtures.openModel("llama");
             SparseDictionary dictionary = TinyFixtures.openDictionary("llama-plt-relu")) {
            assertThat(model.config().maxPositions()).isGreaterThanOrEqualTo(LENGTH);
            Random random = new Random(92);
            int[] ids = new int[LENGTH];
            int vocabulary = model.config().vocabularySize();
            for (int i = 1; i < LENGTH; i++) {
                ids[i] = 1 + random.nextInt(vocabulary - 1);
            }
            TokenSequence tokens = new TokenSequence(ids);
            long start = System.nanoTime();
            AttributionGraph graph = new ExactAttributor().attribute(new AttributionRequest(model, dictionary, tokens,
                    AttributionTargets.Salient.defaults(), 500, 64, 4), AttributionListener.NONE);
            double seconds = (System.nanoTime() - start) / 1e9;
            int layers = model.config().layers();
            int t = graph.tokens().length();
            int m = graph.selected().size();
            int k = graph.logits().size();
            assertThat(t).isEqualTo(LENGTH);
            assertThat(m).isEqualTo(Math.min(500, graph.activeFeatures().size()));
            assertThat(graph.size()).isEqualTo(m + (layers + 1) * t + k);
            System.out.printf("[LongPromptMemoryTest] T=%d, N_act=%d, M=%d, K=%d, %.1f s; peak heap %.0f MiB"
                            + " (max %d MiB), peak RSS %s%n", t, graph.activeFeatures().size(), m, k, seconds,
                    peakHeap() / 1048576.0, Runtime.getRuntime().maxMemory() >> 20, peakRss());
            checkSampledEdges(model, dictionary, graph);
        }
    }

    /** Feature rows × (selected features, errors, tokens) against a single-lane dense recomputation. */
    private static void checkSampledEdges(TransformerModel model, SparseDictionary dictionary, AttributionGraph graph) {
        ReplacementModel replacement = ReplacementModel.of(model, dictionary);
        int width = model.config().modelWidth();
        EdgeMatrix a = graph.adjacency();
        List<Node.FeatureNode> selected = graph.selected();
        Random random = new Random(7);
        int checked = 0;
        try (NDManager manager = NDManager.newBaseManager();
             LinearizedModel linear = model.linearize(manager, graph.tokens(), replacement.linearizationSpec())) {
            ReplacementActivations activations = replacement.activations(manager, graph.tokens(), linear.clean());
            for (int r = 0; r < 3; r++) {
                int row = random.nextInt(selected.size());
                Node.FeatureNode target = selected.get(row);
                float[] encoder = dictionary.encoderRows(manager, target.layer(), new int[] {target.feature()})
                        .toType(DataType.FLOAT32, false).toFloatArray();
                VjpResult g = linear.vjp(manager, new VjpSeeds(
                        List.of(new SeedSite.ReadSite(target.layer(), target.position())), manager.create(encoder, new Shape(1, width))));
                double scale = 0;
                for (int i = 0; i < a.rowSize(row); i++) {
                    scale = Math.max(scale, Math.abs(a.weightAt(row, i)));
                }
                List<Integer> columns = new ArrayList<>();
                for (int j = 0; j < selected.size(); j++) {
                    Node.FeatureNode s = selected.get(j);
                    if (s.position() <= target.position() && s.layer() < target.layer()) {
                        columns.add(j);
                    }
                }
                Collections.shuffle(columns, random);
                columns = new ArrayList<>(columns.subList(0, Math.min(10, columns.size())));
                for (int c = 0; c < 5; c++) {
                    int p = random.nextInt(target.position() + 1);
                    columns.add(graph.tokenIndex(p));
                    columns.add(graph.errorIndex(random.nextInt(Math.max(1, target.layer())), p));
                }
                columns.add(graph.tokenIndex(target.position()));
                for (int column : columns) {
                    double expected = oracle(manager, dictionary, activations, g, graph.nodes().get(column), width);
                    assertThat((double) a.get(row, column)).as("A[%s ← %s]", target, graph.nodes().get(column))
                            .isCloseTo(expected, within(1e-5 * Math.max(scale, 1e-6) + 1e-6 * Math.abs(expected)));
                    checked++;
                }
            }
        }
        System.out.printf("[LongPromptMemoryTest] %d sampled edges equal the dense one-lane oracle%n", checked);
    }

    private static double oracle(NDManager manager, SparseDictionary dictionary, ReplacementActivations activations,
                                 VjpResult g, Node source, int width) {
        float[] gradient;
        float[] vector;
        if (source instanceof Node.FeatureNode f) {
            double sum = 0;
            for (int output : dictionary.outputLayers(f.layer())) {
                Optional<NDArray> site = g.writeSiteGradient(output);
                if (site.isEmpty() || f.position() >= g.positions()) {
                    continue;
                }
                gradient = site.get().get(new NDIndex("0, {}", f.position())).toFloatArray();
                vector = dictionary.decoderRows(manager, f.layer(), new int[] {f.feature()}, output)
                        .toType(DataType.FLOAT32, false).toFloatArray();
                sum += f.activation() * dot(gradient, vector);
            }
            return sum;
        } else if (source instanceof Node.ErrorNode e) {
            Optional<NDArray> site = g.writeSiteGradient(e.layer());
            if (site.isEmpty() || e.position() >= g.positions()) {
                return 0;
            }
            gradient = site.get().get(new NDIndex("0, {}", e.position())).toFloatArray();
            vector = activations.errors().get(new NDIndex("{}, {}", e.layer(), e.position())).toFloatArray();
            return dot(gradient, vector);
        } else if (source instanceof Node.TokenNode t) {
            if (t.position() >= g.positions()) {
                return 0;
            }
            gradient = g.embeddingGradient().get(new NDIndex("0, {}", t.position())).toFloatArray();
            vector = activations.tokenVectors().get(new NDIndex("{}", t.position())).toFloatArray();
            return dot(gradient, vector);
        }
        throw new AssertionError(source);
    }

    private static double dot(float[] x, float[] y) {
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            sum += (double) x[i] * y[i];
        }
        return sum;
    }

    static long peakHeap() {
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        return peak;
    }

    static String peakRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return line.substring(6).trim();
                }
            }
        } catch (Exception e) {
            // not Linux
        }
        return "n/a";
    }
}
