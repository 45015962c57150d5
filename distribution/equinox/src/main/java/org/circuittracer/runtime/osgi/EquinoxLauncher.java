package org.circuittracer.runtime.osgi;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.circuittracer.runtime.ProviderListing;
import org.circuittracer.spi.CircuitTracerException;

/**
 * Command line entry point of the OSGi runtime (wrapped later as {@code circuit-tracer plugins --osgi}).
 *
 * <pre>
 * EquinoxLauncher [--plugins DIR] [--storage DIR] [--bundle JAR]... [--list]
 * </pre>
 *
 * With {@code --list} it boots, prints the providers (and any plugin problems) and exits; otherwise it keeps
 * running, hot-deploying the plugins directory, until the process is stopped.
 */
public final class EquinoxLauncher {

    /** Exit status for bad arguments. */
    static final int USAGE_ERROR = 2;
    /** Exit status when the runtime cannot start. */
    static final int RUNTIME_ERROR = 1;

    static final String USAGE = """
            Usage: EquinoxLauncher [--plugins DIR] [--storage DIR] [--bundle JAR]... [--list]
              --plugins DIR   install the plugin bundles in DIR and watch it for changes
              --storage DIR   the framework's working directory (wiped at start; default: a temporary directory)
              --bundle JAR    a library or plugin bundle to start at boot (repeatable)
              --list          print the providers and exit
              --help          print this help
            """;

    /** The parsed command line. */
    record Options(Optional<Path> plugins, Optional<Path> storage, List<Path> bundles, boolean list, boolean help) {
    }

    private EquinoxLauncher() {
    }

    public static void main(String[] args) {
        int status = run(args, System.out, System.err);
        if (status != 0) {
            System.exit(status);
        }
    }

    /** Runs the launcher and returns the exit status; blocks until the JVM stops unless {@code --list} is given. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        Options options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            err.print(USAGE);
            return USAGE_ERROR;
        }
        if (options.help()) {
            out.print(USAGE);
            return 0;
        }
        Path storage;
        boolean temporaryStorage = options.storage().isEmpty();
        try {
            storage = temporaryStorage ? Files.createTempDirectory("circuit-tracer-osgi") : options.storage().get();
        } catch (IOException e) {
            err.println("error: cannot create a temporary storage directory: " + e.getMessage()
                    + ". Pass --storage DIR.");
            return RUNTIME_ERROR;
        }
        EquinoxSettings settings = EquinoxSettings.of(storage).withBundles(options.bundles());
        if (options.plugins().isPresent()) {
            settings = settings.withPluginDirectory(options.plugins().get());
        }
        EquinoxRuntime runtime;
        try {
            runtime = EquinoxRuntime.start(settings);
        } catch (CircuitTracerException e) {
            err.println("error: " + e.describe());
            deleteIf(temporaryStorage, storage);
            return RUNTIME_ERROR;
        }
        if (options.list()) {
            try (runtime) {
                print(runtime, out);
            } finally {
                deleteIf(temporaryStorage, storage);
            }
            return 0;
        }
        print(runtime, out);
        out.println(options.plugins().map(dir -> "Watching " + dir + " for plugins. ").orElse("")
                + "Stop with Ctrl+C.");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            runtime.close();
            deleteIf(temporaryStorage, storage);
        }, "circuit-tracer-osgi-shutdown"));
        try {
            stopped.await(); // until the JVM is stopped; the shutdown hook closes the runtime
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    static Options parse(String[] args) {
        Path plugins = null;
        Path storage = null;
        List<Path> bundles = new ArrayList<>();
        boolean list = false;
        boolean help = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--plugins" -> plugins = once(plugins, arg, path(args, ++i, arg));
                case "--storage" -> storage = once(storage, arg, path(args, ++i, arg));
                case "--bundle" -> bundles.add(path(args, ++i, arg));
                case "--list" -> list = true;
                case "--help", "-h" -> help = true;
                default -> throw new IllegalArgumentException("unknown argument '" + arg + "'.");
            }
        }
        return new Options(Optional.ofNullable(plugins), Optional.ofNullable(storage), List.copyOf(bundles), list,
                help);
    }

    private static Path path(String[] args, int index, String option) {
        if (index >= args.length || args[index].startsWith("--")) {
            throw new IllegalArgumentException(option + " needs a value.");
        }
        try {
            return Path.of(args[index]);
        } catch (java.nio.file.InvalidPathException e) {
            throw new IllegalArgumentException(option + ": '" + args[index] + "' is not a valid path.");
        }
    }

    private static Path once(Path previous, String option, Path value) {
        if (previous != null) {
            throw new IllegalArgumentException(option + " given twice.");
        }
        return value;
    }

    private static void print(EquinoxRuntime runtime, PrintStream out) {
        List<String> bundles = runtime.bundles();
        out.println("Equinox is running " + bundles.size() + (bundles.size() == 1 ? " bundle" : " bundles")
                + (bundles.isEmpty() ? "." : ": " + String.join(", ", bundles) + "."));
        out.print(ProviderListing.format(runtime.describe()));
        List<PluginProblem> problems = runtime.problems();
        if (!problems.isEmpty()) {
            out.println();
            out.println("Problems:");
            problems.forEach(p -> out.println("  " + p));
        }
        out.flush();
    }

    private static void deleteIf(boolean condition, Path directory) {
        if (!condition) {
            return;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | RuntimeException ignored) {
            // A leftover temporary directory is harmless.
        }
    }
}
