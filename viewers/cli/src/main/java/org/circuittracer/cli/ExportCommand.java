package org.circuittracer.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.circuittracer.attribution.export.ExportOptions;
import org.circuittracer.attribution.export.GraphJsonExporter;
import org.circuittracer.attribution.graphfile.GraphFile;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code circuit-tracer export}: the viewer JSON of a saved graph file, without recomputing the attribution. The model
 * is opened only for its tokenizer (each prompt token's text goes into the JSON).
 */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write DIR/NAME.json (the viewer's graph JSON) and update DIR/graph-metadata.json from a graph "
                + "file saved by attribute (--graph-output-path, or the file attribute saves when the viewer JSON "
                + "cannot be written). Pruning thresholds can differ from the ones used before; nothing is recomputed.",
                "The model (default: the embedded demo) is opened only for its tokenizer and must be the one the "
                + "graph was computed with."},
        footer = {"", "Examples:",
                "  circuit-tracer attribute --graph-output-path dallas.graph.safetensors --slug dallas",
                "  circuit-tracer export dallas.graph.safetensors --node-threshold 0.6 --slug dallas-0.6",
                "      the same graph, pruned less, as graphs/dallas-0.6.json"})
final class ExportCommand implements Runnable {

    /** The file name ending of graph files the CLI names itself. */
    static final String GRAPH_FILE_SUFFIX = ".graph.safetensors";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "GRAPH_FILE", description = "A graph file (circuit-tracer-graph format).")
    Path graphFile;

    @CommandLine.Mixin
    ModelOptions modelOptions = new ModelOptions();

    @Option(names = "--slug", paramLabel = "NAME",
            description = "Graph name (file-safe; default: the graph file's name without " + GRAPH_FILE_SUFFIX + ").")
    String slug;

    @CommandLine.Mixin
    GraphJsonOptions graphJson = new GraphJsonOptions();

    @Option(names = "--scan", paramLabel = "NAME",
            description = "metadata.scan to write (default: the one saved in the graph file).")
    String scan;

    @CommandLine.Mixin
    ProgressOptions output = new ProgressOptions();

    @Override
    public void run() {
        graphJson.check(spec);
        if (!Files.isRegularFile(graphFile)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "No graph file " + graphFile
                    + "; give the file that attribute --graph-output-path wrote.");
        }
        String name = slug != null ? slug : AttributeCommand.defaultSlugOf(graphFile);
        ExportOptions.of(name, List.of()); // the slug must be file-safe
        AttributionGraph graph = GraphFile.load(graphFile); // before the model: a bad file fails fast
        ModelOptions.Resolved resolved = modelOptions.resolve(spec);
        ProgressListener progress = output.listener(spec);
        try (Registries.Registry registry = Registries.open(modelOptions.pluginDirectory());
             LoadedModel loaded = LoadedModel.open(registry, modelOptions, resolved, progress::note)) {
            checkSameModel(graph.model(), loaded.model.config(), graph.vocabularySize(),
                    loaded.model.tokenizer().vocabularySize());
            TokenSequence tokens = graph.tokens();
            ExportOptions options = graphJson.apply(ExportOptions.of(name, ExportOptions.decodeEach(
                    loaded.model.tokenizer(), tokens)))
                    .withScan(scan)
                    .withCreateTimeMs(System.currentTimeMillis());
            // head loadings saved by attribute --head-loadings: written on the links that are among the saved ones
            var stored = GraphFile.loadHeadLoadings(graphFile);
            if (stored.isPresent()) {
                options = options.withHeadLoadings(new org.circuittracer.attribution.export.HeadLoadingExport(
                        stored.get().topK(), (t, s) -> stored.get().loadings().subset(t, s)));
            }
            GraphJsonExporter.Result result = GraphJsonExporter.export(graph, options, graphJson.directory);
            printWarnings(spec.commandLine().getErr(), result);
            PrintWriter out = spec.commandLine().getOut();
            out.printf("Wrote %s (%d nodes, %d links)%n", result.graphFile(), result.nodes(), result.links());
            out.printf("Updated %s%n", result.indexFile());
            out.flush();
        } finally {
            progress.close();
        }
    }

    /** One {@code warning:} line per problem the export worked around (renamed ids come first). */
    static void printWarnings(PrintWriter err, GraphJsonExporter.Result result) {
        for (int i = 0; i < result.warnings().size(); i++) {
            boolean renaming = i == 0 && !result.renamed().isEmpty();
            err.println("warning: " + result.warnings().get(i)
                    + (renaming ? " --strict-node-ids refuses such graphs instead." : ""));
        }
        err.flush();
    }

    static void checkSameModel(ModelConfig saved, ModelConfig loaded, int savedVocabulary, int vocabulary) {
        if (saved.layers() != loaded.layers() || saved.modelWidth() != loaded.modelWidth()
                || savedVocabulary != vocabulary) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The graph was computed with "
                    + saved.modelName() + " (" + saved.layers() + " layers, width " + saved.modelWidth()
                    + ", vocabulary " + savedVocabulary + ") but the model opened is " + loaded.modelName() + " ("
                    + loaded.layers() + " layers, width " + loaded.modelWidth() + ", vocabulary " + vocabulary
                    + "). Give the graph's model with --model.");
        }
    }
}
