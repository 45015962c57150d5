package org.circuittracer.attribution.exact;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.circuittracer.attribution.io.EdgeMemory;
import org.circuittracer.attribution.replacement.ActiveFeatures;
import org.circuittracer.attribution.targets.LogitTarget;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.EdgeMatrix;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;

/**
 * Phase 5 (docs/reference/algorithm.md §3.10): computed rows into the graph's sparse adjacency. Feature rows go first in ascending
 * active index, error and token rows stay empty, logit rows go last in target order; columns of unselected features are
 * dropped (not folded into errors), error and token columns shift down to follow the {@code M} kept features.
 */
final class GraphAssembly {

    private GraphAssembly() {
    }

    /**
     * @param selected ascending active indices of the feature nodes
     * @param rows     every computed row: one per logit target (node {@code N_act + (L+1)·T + k}) and one per selected
     *                 feature (node = its active index)
     */
    static AttributionGraph assemble(ModelConfig config, TokenSequence tokens, String inputString, ActiveFeatures active,
                                     int[] selected, List<LogitTarget> targets, EdgeRows rows, int vocabularySize,
                                     String scan, EdgeMemory memory) {
        int nAct = active.size();
        int m = selected.length;
        int length = tokens.length();
        int layers = config.layers();
        int k = targets.size();
        int size = m + (layers + 1) * length + k;
        int logitNodeStart = nAct + (layers + 1) * length;
        int[] featureColumn = new int[nAct];
        Arrays.fill(featureColumn, -1);
        for (int j = 0; j < m; j++) {
            featureColumn[selected[j]] = j;
        }
        // graph row → computed row
        int[] rowOf = new int[size];
        Arrays.fill(rowOf, -1);
        for (int r = 0; r < rows.size(); r++) {
            int node = rows.node(r);
            int graphRow = node >= logitNodeStart ? m + (layers + 1) * length + (node - logitNodeStart)
                    : featureColumn[node];
            if (graphRow < 0) {
                throw new IllegalStateException("row of unselected feature " + node);
            }
            rowOf[graphRow] = r;
        }
        // entries per graph row after dropping the columns of unselected features
        int[] counts = new int[size];
        EdgeRows.Reader reader = rows.reader();
        for (int g = 0; g < size; g++) {
            int r = rowOf[g];
            if (r < 0) {
                continue;
            }
            if (m == nAct) {
                counts[g] = rows.length(r);
            } else {
                int row = g;
                reader.read(r, (rr, cols, ws, count) -> {
                    int kept = 0;
                    for (int i = 0; i < count; i++) {
                        kept += cols[i] >= nAct || featureColumn[cols[i]] >= 0 ? 1 : 0;
                    }
                    counts[row] = kept;
                });
            }
        }
        long nnz = 0;
        for (int c : counts) {
            nnz += c;
        }
        if (nnz > Integer.MAX_VALUE - 8) {
            throw new CircuitTracerException(StandardErrorCode.OUT_OF_RESOURCES,
                    "The graph has " + nnz + " edges, more than one sparse matrix can hold; lower max-feature-nodes.");
        }
        int[] rowStart = new int[size + 1];
        for (int g = 0; g < size; g++) {
            rowStart[g + 1] = rowStart[g] + counts[g];
        }
        EdgeMatrix adjacency = 8 * nnz <= memory.budgetBytes()
                ? inMemory(size, rowStart, rowOf, rows, featureColumn, m, nAct)
                : onDisk(size, rowStart, rowOf, rows, featureColumn, m, nAct, memory);
        List<Node.FeatureNode> selectedNodes = new ArrayList<>(m);
        for (int i : selected) {
            selectedNodes.add(active.node(i));
        }
        List<Node.LogitNode> logits = new ArrayList<>(k);
        for (LogitTarget target : targets) {
            logits.add(new Node.LogitNode(length - 1, target.vocabIndex(), target.label(), target.weight()));
        }
        return new AttributionGraph(config, tokens, inputString, active.nodes(), selectedNodes, logits, adjacency,
                vocabularySize, scan);
    }

    /** Writes graph row {@code g}'s mapped entries through {@code sink}. */
    private interface EntrySink {
        void put(int column, float weight) throws IOException;
    }

    private static void mapRow(EdgeRows.Reader reader, int r, int[] featureColumn, int m, int nAct, EntrySink sink) {
        reader.read(r, (rr, cols, ws, length) -> {
            try {
                for (int i = 0; i < length; i++) {
                    int c = cols[i];
                    int mapped = c < nAct ? featureColumn[c] : m + (c - nAct);
                    if (mapped >= 0) {
                        sink.put(mapped, ws[i]);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static EdgeMatrix inMemory(int size, int[] rowStart, int[] rowOf, EdgeRows rows, int[] featureColumn,
                                       int m, int nAct) {
        int[] columns = new int[rowStart[size]];
        float[] weights = new float[rowStart[size]];
        EdgeRows.Reader reader = rows.reader();
        int[] at = {0};
        for (int g = 0; g < size; g++) {
            if (rowOf[g] >= 0) {
                mapRow(reader, rowOf[g], featureColumn, m, nAct, (column, weight) -> {
                    columns[at[0]] = column;
                    weights[at[0]++] = weight;
                });
            }
        }
        return EdgeMatrix.adopt(size, rowStart, columns, weights);
    }

    /**
     * The matrix in a temporary file, columns then weights, that the matrix deletes once it is garbage: a graph with
     * every feature of a long prompt has more edges than the heap should hold.
     */
    private static EdgeMatrix onDisk(int size, int[] rowStart, int[] rowOf, EdgeRows rows, int[] featureColumn, int m,
                                     int nAct, EdgeMemory memory) {
        long nnz = rowStart[size];
        Path file = null;
        try {
            file = Files.createTempFile(memory.directory(), "circuit-tracer-edges-", ".bin");
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                RegionWriter columns = new RegionWriter(channel, 0);
                RegionWriter weights = new RegionWriter(channel, 4 * nnz);
                EdgeRows.Reader reader = rows.reader();
                int[] mappedColumns = new int[0];
                float[] mappedWeights = new float[0];
                for (int g = 0; g < size; g++) {
                    int count = rowStart[g + 1] - rowStart[g];
                    if (rowOf[g] < 0 || count == 0) {
                        continue;
                    }
                    if (mappedColumns.length < count) {
                        mappedColumns = new int[count];
                        mappedWeights = new float[count];
                    }
                    int[] cs = mappedColumns;
                    float[] ws = mappedWeights;
                    int[] at = {0};
                    mapRow(reader, rowOf[g], featureColumn, m, nAct, (column, weight) -> {
                        cs[at[0]] = column;
                        ws[at[0]++] = weight;
                    });
                    columns.putInts(cs, count);
                    weights.putFloats(ws, count);
                }
                columns.flush();
                weights.flush();
            }
            return EdgeMatrix.onDisk(size, rowStart, file, 0, 4 * nnz, true, false);
        } catch (IOException | UncheckedIOException e) {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // best effort
                }
            }
            throw new CircuitTracerException(StandardErrorCode.OUT_OF_RESOURCES, "The graph's " + nnz + " edges "
                    + "outgrow the memory budget and could not be written to " + memory.directory() + " ("
                    + e.getMessage() + "). Free disk space there (it needs " + 8 * nnz + " bytes), or point -D"
                    + EdgeMemory.DIRECTORY_PROPERTY + "=DIR elsewhere.", e);
        }
    }
}
