package org.circuittracer.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.circuittracer.dashboards.files.DashboardWriter;
import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.Attributor;
import org.circuittracer.spi.attribution.AttributorOptions;
import org.circuittracer.viewer.ViewerConfig;
import org.circuittracer.viewer.ViewerServer;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code circuit-tracer serve}: the web viewer on a graph directory, with a model for new graphs and steering. */
@Command(name = "serve", aliases = "start-server", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve a graph directory in the web viewer until Ctrl-C: browse graphs and their features, pin, "
                + "group and label nodes (saved next to the graphs), and, with a model loaded, make new graphs from "
                + "prompts and steer from the page.",
                "Without --model it loads the embedded demo model and its per-layer transcoders (--transcoders "
                + "demo-clt for the cross-layer ones) and shows the demo's feature dashboards; --no-model serves the "
                + "files only."},
        footer = {"", "Examples:",
                "  circuit-tracer attribute && circuit-tracer serve",
                "      a demo graph, then the viewer on graphs/ (http://127.0.0.1:8041/)",
                "  circuit-tracer serve --features-dir features/llama --no-model",
                "      graphs made elsewhere (e.g. by the Python circuit-tracer), no model",
                "  circuit-tracer serve --model models/llama \\",
                "      --transcoders transcoders/llama-plt --features-dir features/llama --port 0",
                "      with a model for new graphs and steering, on any free port",
                "  circuit-tracer serve --frontend ct/circuit_tracer/frontend/assets \\",
                "      --model models/llama --transcoders transcoders/llama-plt",
                "      the Python circuit-tracer's page (a checkout in ct/) on our graphs, with",
                "      the feature files in transcoders/llama-plt/features",
                "Open the printed address; ?slug=NAME opens graph NAME. The server has no authentication: keep "
                        + "--host 127.0.0.1 unless the network is trusted. See docs/viewer.md."})
final class ServeCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"--graph-file-dir", "--graph_file_dir"}, defaultValue = "graphs", paramLabel = "DIR", order = 0,
            description = "Directory with graph-metadata.json and NAME.json, as attribute writes it; annotations are "
                    + "saved there too (default: ${DEFAULT-VALUE}).")
    Path graphFileDir;

    @Option(names = {"--features-dir", "--features_dir"}, paramLabel = "DIR", order = 0,
            description = "Feature files (circuit-tracer features writes them: packed index.json.gz + .bin, or "
                    + "FEATURE.json each). Default: the demo's dashboards when the demo's transcoders are used; else "
                    + "the transcoder directory's features/ subdirectory, or the directory itself, when it holds "
                    + "feature files (index.json.gz or dashboards.json); else none.")
    Path featuresDir;

    @Option(names = "--host", defaultValue = Viewing.DEFAULT_HOST, paramLabel = "ADDRESS", order = 0,
            description = "Address to listen on (default: ${DEFAULT-VALUE}, this machine only; 0.0.0.0 exposes the "
                    + "unauthenticated server to the network).")
    String host;

    @Option(names = "--port", defaultValue = Viewing.DEFAULT_PORT, paramLabel = "N", order = 0,
            description = "Port, 0 = any free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--no-model", order = 0,
            description = "Serve the files only: no model is loaded, so the page cannot make new graphs or steer.")
    boolean noModel;

    @CommandLine.Mixin
    FrontendOption frontend = new FrontendOption();

    @CommandLine.Mixin
    ModelOptions modelOptions = new ModelOptions();

    @Option(names = "--attributor", defaultValue = "exact", paramLabel = "NAME", order = 7,
            description = "Attributor for new graphs (default: ${DEFAULT-VALUE}).")
    String attributor;

    @Option(names = "--attributor-option", paramLabel = "NAME=VALUE", order = 7,
            description = "A setting of the attributor, repeatable; each attributor documents its own (exact takes "
                    + "none).")
    Map<String, String> attributorOptions = new LinkedHashMap<>();

    @Option(names = {"-q", "--quiet"}, order = 8, description = "Print only the address.")
    boolean quiet;

    // not the ProgressOptions mixin: -q means something else here, and both options keep their place in the help
    @Option(names = "--verbose", order = 9, description = VerboseOption.DESCRIPTION)
    boolean verbose;

    /** The feature files served, once {@link #run} has found them. */
    private Viewing.Features features;

    @Override
    public void run() {
        Viewing.checkPort(port, spec);
        if (noModel && (modelOptions.model != null || modelOptions.transcoders != null)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--no-model serves the files only: leave out "
                    + "--model and --transcoders, or --no-model.");
        }
        if (!Files.isDirectory(graphFileDir)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "--graph-file-dir " + graphFileDir
                    + " is not a directory. Make a graph first (circuit-tracer attribute --graph-file-dir "
                    + graphFileDir + "), or name the directory that holds graph-metadata.json.");
        }
        Path frontendDir = frontend.checked();
        ModelOptions.Resolved resolved = noModel ? null : resolveModel();
        features = Viewing.locateFeatures(featuresDir, resolved, this::note);
        if (features != null) {
            recoverInterruptedWrite(features.directory());
        }
        ViewerConfig config = ViewerConfig.of(graphFileDir).withFeaturesDir(features == null ? null
                : features.directory()).withHost(host).withPort(port).withFrontendDir(frontendDir);
        Viewing.checkBindable(host, port); // before the model is loaded
        if (resolved == null) {
            try (Viewing.StopSignal stop = new Viewing.StopSignal()) {
                serve(config, stop);
            }
            return;
        }
        try (Viewing.StopSignal stop = new Viewing.StopSignal();
             Registries.Registry registry = Registries.open(modelOptions.pluginDirectory())) {
            // the attributor refuses settings it does not know before the model is loaded
            Attributor attributorImpl = registry.get(ProviderKind.ATTRIBUTOR, attributor).create(
                    new AttributorOptions(attributor, attributorOptions));
            try (LoadedModel loaded = LoadedModel.open(registry, modelOptions, resolved, this::note)) {
                serve(config.withWorkbench(new ServeWorkbench(loaded.model, loaded.dictionary, attributorImpl,
                        resolved.model())), stop);
            }
        }
    }

    /**
     * Finishes or discards a dashboards write that a killed {@code features} command left in the served directory
     * (what external readers such as the reference frontend would see half-replaced), unless something there changed
     * recently: a {@code features} command may then be writing into it right now.
     */
    private void recoverInterruptedWrite(Path dir) {
        try {
            switch (DashboardWriter.recoverStale(dir, DashboardWriter.STALE_AFTER)) {
                case RECOVERED -> note("Features: finished or discarded an interrupted write in " + dir
                        + " (left by a killed features command).");
                case LEFT_FOR_A_RUNNING_WRITER -> note("Features: " + dir + " holds files of a features write from "
                        + "the last " + DashboardWriter.STALE_AFTER.toMinutes() + " minutes; left as they are, in case "
                        + "a features command is writing there.");
                case NOTHING_LEFT -> { }
            }
        } catch (CircuitTracerException e) {
            note("Features: could not clean up an interrupted write in " + dir + " (" + e.getMessage() + "); serving "
                    + "it as it is.");
        }
    }

    private ModelOptions.Resolved resolveModel() {
        try {
            return modelOptions.resolve(spec);
        } catch (CircuitTracerException e) {
            if (modelOptions.model != null) {
                throw e;
            }
            throw new CircuitTracerException(e.errorCode(), e.getMessage() + " To serve the graph files without a "
                    + "model, add --no-model.", e);
        }
    }

    private void serve(ViewerConfig config, Viewing.StopSignal stop) {
        try (ViewerServer server = Viewing.start(config)) {
            note("Graphs: " + config.graphDir().toAbsolutePath().normalize());
            note(features == null ? "Features: none (give --features-dir DIR)" : features.line());
            if (config.frontendDir() != null) {
                note("Frontend: " + config.frontendDir().toAbsolutePath().normalize() + " (instead of ours)");
            }
            note(config.workbench() == null ? "No model: new graphs and steering are off."
                    : "Model loaded: new graphs and steering are on.");
            var out = spec.commandLine().getOut();
            out.println("Viewer running at " + server.url() + "  (Ctrl-C to stop)");
            out.flush();
            stop.await();
        }
    }

    private void note(String message) {
        if (!quiet) {
            spec.commandLine().getErr().println(message);
            spec.commandLine().getErr().flush();
        }
    }
}
