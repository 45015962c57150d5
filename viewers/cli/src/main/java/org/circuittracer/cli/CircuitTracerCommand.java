package org.circuittracer.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCategory;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code circuit-tracer} command: {@code attribute}, {@code intervene}, {@code generate}, {@code features},
 * {@code bench}, {@code serve}, {@code export-onnx}, {@code plugins}, {@code --version}. Exit codes: 0 success,
 * 2 usage or user error, 3 plugin error, 4 internal error, 5 insufficient resources.
 */
@Command(name = "circuit-tracer", mixinStandardHelpOptions = true, versionProvider = CircuitTracerCommand.Version.class,
        description = "Attribution graphs for transformer language models on the JVM.",
        subcommands = {AttributeCommand.class, BatchCommand.class, ExportCommand.class, InterveneCommand.class, GenerateCommand.class,
                FeaturesCommand.class, BenchCommand.class, ServeCommand.class, ExportOnnxCommand.class,
                QkCommand.class, PluginsCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Without --model the commands use the embedded demo model; the packaged launcher's --osgi runs "
                + "them with every provider from an OSGi bundle.",
                "Exit codes: 0 ok, 2 usage/user error, 3 plugin error, 4 internal error, 5 insufficient resources.",
                "Examples:", "  circuit-tracer attribute --server",
                "      a graph of the demo model on the Dallas prompt, opened in the web viewer",
                "  circuit-tracer serve --graph-file-dir graphs",
                "  circuit-tracer intervene -i 0:@Dallas:all*-1 -i 1:@Dallas:all*-1",
                "  circuit-tracer attribute --model models/llama --transcoders transcoders/llama-plt "
                        + "--prompt \"the cat sat\" --slug cat --graph-file-dir graphs",
                "  circuit-tracer export-onnx --model models/llama --output models/llama-onnx",
                "      the same model for the onnx backend (ONNX Runtime), chosen for a directory with model.onnx"})
public final class CircuitTracerCommand implements Runnable {

    public static final int EXIT_USER = 2;
    public static final int EXIT_PLUGIN = 3;
    public static final int EXIT_INTERNAL = 4;
    public static final int EXIT_RESOURCES = 5;

    /** Held so that the level set in {@link #main} stays (java.util.logging keeps loggers weakly). */
    private static final java.util.logging.Logger ONNX_BACKEND_LOG =
            java.util.logging.Logger.getLogger("org.circuittracer.backend.onnx");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing command: use attribute, intervene, "
                + "generate, features, bench, serve, export-onnx or plugins (circuit-tracer --help lists them).");
    }

    /** A command line configured as {@code main} uses it: error handling and exit codes included. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new CircuitTracerCommand());
        cli.setExecutionExceptionHandler(CircuitTracerCommand::handle);
        return cli;
    }

    public static void main(String[] args) {
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        // DJL logs engine details at INFO and a harmless CUDA warning on CPU machines; keep stderr for our progress.
        boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
                System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "info" : "warn"));
        System.setProperty("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils",
                System.getProperty("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", verbose ? "warn" : "error"));
        // The onnx backend logs through java.util.logging (System.Logger) which device it runs on; --verbose shows it.
        ONNX_BACKEND_LOG.setLevel(verbose ? java.util.logging.Level.INFO : java.util.logging.Level.WARNING);
        System.exit(commandLine().execute(args));
    }

    /** The exit code for an error category. */
    public static int exitCode(ErrorCategory category) {
        return switch (category) {
            case USER_ERROR -> EXIT_USER;
            case PLUGIN_ERROR -> EXIT_PLUGIN;
            case INTERNAL_ERROR -> EXIT_INTERNAL;
            case INSUFFICIENT_RESOURCES -> EXIT_RESOURCES;
        };
    }

    private static int handle(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        PrintWriter err = cli.getErr();
        boolean verbose = verbose(parsed);
        int code;
        if (e instanceof CircuitTracerException cte) {
            err.println("error: " + cte.describe());
            code = exitCode(cte.category());
        } else if (e.getCause() instanceof OutOfMemoryError) {
            err.println("error: [OUT_OF_RESOURCES] Out of memory: " + e.getMessage()
                    + ". Give Java more memory (-Xmx) or lower --batch-size / --max-feature-nodes.");
            code = EXIT_RESOURCES;
        } else {
            err.println("error: [INTERNAL] " + e + (verbose ? "" : " (run with --verbose for the stack trace)"));
            code = EXIT_INTERNAL;
        }
        if (verbose) {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            err.print(trace);
        }
        err.flush();
        return code;
    }

    private static boolean verbose(CommandLine.ParseResult parsed) {
        CommandLine.ParseResult p = parsed;
        while (p != null) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
            p = p.subcommand();
        }
        List<String> args = parsed == null ? List.of() : parsed.originalArgs();
        return args.contains("--verbose");
    }

    /** The version from the jar's manifest (bnd writes Bundle-Version), or "development". */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = CircuitTracerCommand.class.getPackage().getImplementationVersion();
            if (v == null) {
                v = bundleVersion();
            }
            return new String[] {"circuit-tracer " + (v == null ? "development" : v),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
        }

        private static String bundleVersion() {
            try {
                java.nio.file.Path self = Launch.selfLocation();
                if (self == null || !java.nio.file.Files.isRegularFile(self)) {
                    return null;
                }
                try (java.util.jar.JarFile jar = new java.util.jar.JarFile(self.toFile())) {
                    java.util.jar.Manifest m = jar.getManifest();
                    return m == null ? null : m.getMainAttributes().getValue("Bundle-Version");
                }
            } catch (java.io.IOException e) {
                return null;
            }
        }
    }
}
