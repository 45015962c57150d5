package org.circuittracer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.circuittracer.attribution.attention.QkPass;
import org.circuittracer.attribution.export.QkJson;
import org.circuittracer.attribution.graphfile.GraphFile;
import org.circuittracer.attribution.io.AtomicFiles;
import org.circuittracer.attribution.prune.GraphPruning;
import org.circuittracer.attribution.prune.PruneResult;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.model.QkQuery;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code circuit-tracer qk}: why head {@code h} of layer {@code m} attended from a query position to a key position,
 * split over the nodes a saved graph keeps (docs/attention.md, "QK attribution").
 */
@Command(name = "qk", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Split one attention score (layer, head, query position, key position) of a saved graph's prompt "
                + "into pairwise terms between the graph's kept nodes (features, errors, tokens) at the query and at "
                + "the key, marginal terms against the other side's rest, and a constant; print the largest as JSON "
                + "in Neuronpedia's qk_tracing_results shape.",
                "The model and transcoders must be the ones the graph was computed with."},
        footer = {"", "Examples:",
                "  circuit-tracer attribute -o dallas.graph.safetensors --head-loadings",
                "  circuit-tracer qk dallas.graph.safetensors --layer 2 --head 1 --query 9 --key 5"})
final class QkCommand implements Runnable {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "GRAPH_FILE",
            description = "A graph file (attribute --graph-output-path).")
    Path graphFile;

    @Option(names = "--graph", paramLabel = "GRAPH_FILE", description = "The graph file, as an option.")
    Path graphOption;

    @CommandLine.Mixin
    ModelOptions modelOptions = new ModelOptions();

    @Option(names = "--layer", required = true, paramLabel = "M", description = "The attention layer.")
    int layer;

    @Option(names = "--head", required = true, paramLabel = "H", description = "The query head.")
    int head;

    @Option(names = "--query", required = true, paramLabel = "Q", description = "The query position.")
    int query;

    @Option(names = "--key", required = true, paramLabel = "K", description = "The key position (at most Q).")
    int key;

    @Option(names = "--top", defaultValue = "10", paramLabel = "N",
            description = "How many pairwise and marginal terms to list (default: ${DEFAULT-VALUE}).")
    int top;

    @Option(names = {"--node-threshold", "--node_threshold"}, defaultValue = "0.8", paramLabel = "X",
            description = "Node pruning threshold that chooses the graph's kept nodes (default: ${DEFAULT-VALUE}).")
    double nodeThreshold;

    @Option(names = {"--edge-threshold", "--edge_threshold"}, defaultValue = "0.98", paramLabel = "Y",
            description = "Edge pruning threshold (default: ${DEFAULT-VALUE}).")
    double edgeThreshold;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the JSON here instead of printing it.")
    Path out;

    @CommandLine.Mixin
    ProgressOptions output = new ProgressOptions();

    @Override
    public void run() {
        if ((graphFile == null) == (graphOption == null)) {
            throw usage("give the graph file once: as GRAPH_FILE or with --graph.");
        }
        if (graphFile == null) {
            graphFile = graphOption;
        }
        if (top < 1) {
            throw usage("--top must be at least 1, got " + top + ".");
        }
        for (double threshold : new double[] {nodeThreshold, edgeThreshold}) {
            if (!(threshold >= 0 && threshold <= 1)) {
                throw usage("pruning thresholds lie in [0, 1], got " + threshold + ".");
            }
        }
        if (!Files.isRegularFile(graphFile)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "No graph file " + graphFile
                    + "; give the file that attribute --graph-output-path wrote.");
        }
        AttributionGraph graph = GraphFile.load(graphFile); // before the model: bad input fails fast
        checkQuery(graph);
        QkQuery asked = new QkQuery(layer, head, query, key);
        PruneResult pruned = GraphPruning.prune(graph, nodeThreshold, edgeThreshold);
        int[] kept = IntStream.range(0, graph.logitIndex(0)).filter(pruned::keepsNode).toArray();
        ProgressListener progress = output.listener(spec);
        try (Registries.Registry registry = Registries.open(modelOptions.pluginDirectory());
             LoadedModel loaded = LoadedModel.open(registry, modelOptions, modelOptions.resolve(spec),
                     progress::note)) {
            ExportCommand.checkSameModel(graph.model(), loaded.model.config(), graph.vocabularySize(),
                    loaded.model.tokenizer().vocabularySize());
            QkPass.GraphQk result = new QkPass(loaded.model, loaded.dictionary).compute(graph, kept, List.of(asked))
                    .get(0);
            byte[] bytes = JSON.writeValueAsBytes(json(graph, result));
            if (out != null) {
                AtomicFiles.write(out, bytes);
                spec.commandLine().getOut().printf("Wrote %s%n", out);
            } else {
                PrintWriter writer = spec.commandLine().getOut();
                writer.println(new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
            }
            spec.commandLine().getOut().flush();
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Cannot write the QK terms: " + e.getMessage(),
                    e);
        } finally {
            progress.close();
        }
    }

    private void checkQuery(AttributionGraph graph) {
        int layers = graph.model().layers();
        int heads = graph.model().heads();
        int length = graph.tokens().length();
        if (layer < 0 || layer >= layers) {
            throw usage("--layer " + layer + " is outside the model's layers 0 to " + (layers - 1) + ".");
        }
        if (head < 0 || head >= heads) {
            throw usage("--head " + head + " is outside the model's heads 0 to " + (heads - 1) + ".");
        }
        if (query < 0 || query >= length) {
            throw usage("--query " + query + " is outside the prompt's positions 0 to " + (length - 1) + ".");
        }
        if (key < 0 || key > query) {
            throw usage("--key " + key + " must lie in 0 to the query position " + query
                    + " (a query attends to itself and earlier positions).");
        }
    }

    private ObjectNode json(AttributionGraph graph, QkPass.GraphQk result) {
        ObjectNode root = QkJson.describe(graph, result, top);
        root.put("sources", result.split().sources());
        return root;
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), "Invalid value: " + message);
    }
}
