package org.circuittracer.cli;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.circuittracer.demo.DemoModel;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCategory;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.viewer.ViewerConfig;
import org.circuittracer.viewer.ViewerServer;

import picocli.CommandLine;

/**
 * What {@code serve} and {@code attribute --server} share: checking the address before a model is loaded, the
 * feature files that go with the transcoders, starting the viewer with readable errors, and waiting for Ctrl-C.
 */
final class Viewing {

    /** {@code --port}'s default as an annotation constant (the reference's port). */
    static final String DEFAULT_PORT = "" + ViewerConfig.DEFAULT_PORT;
    /** {@code --host}'s default: this machine only. */
    static final String DEFAULT_HOST = ViewerConfig.DEFAULT_HOST;

    /** Failures of the command's own that no standard code names. */
    enum Code implements org.circuittracer.spi.ErrorCode {
        /** Another process listens on the port the viewer was asked to use. */
        PORT_IN_USE;

        @Override
        public String code() {
            return name();
        }

        @Override
        public ErrorCategory category() {
            return ErrorCategory.USER_ERROR;
        }
    }

    private Viewing() {
    }

    /** Checks {@code --port} before anything is loaded (exit code 2 with the usage). */
    static void checkPort(int port, CommandLine.Model.CommandSpec spec) {
        if (port < 0 || port > 65535) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '--port': " + port
                    + " is not a port; give 1-65535, or 0 for any free port.");
        }
    }

    /**
     * Fails before a model is loaded or a graph computed when the viewer could not listen on {@code host:port}: the
     * port is taken, or the host is not an address of this machine. The server's own start reports the same errors
     * should the port be taken in between.
     */
    static void checkBindable(String host, int port) {
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "--host " + host + " is not a known "
                    + "host name or address. Give an address of this machine, e.g. 127.0.0.1 (this machine only) or "
                    + "0.0.0.0 (every interface).");
        }
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true); // as the server does: a closed connection's TIME_WAIT does not block it
            socket.bind(address);
        } catch (IOException e) {
            throw bindFailure(host, port, e);
        }
    }

    /** Starts the viewer, turning a failure to listen into a user error with a hint. */
    static ViewerServer start(ViewerConfig config) {
        try {
            return ViewerServer.start(config);
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof BindException) {
                    throw bindFailure(config.host(), config.port(), t);
                }
            }
            throw e;
        }
    }

    private static CircuitTracerException bindFailure(String host, int port, Throwable cause) {
        String message = String.valueOf(cause.getMessage());
        if (port != 0 && message.toLowerCase(java.util.Locale.ROOT).contains("in use")) {
            return new CircuitTracerException(Code.PORT_IN_USE, "Port " + port + " on " + host + " is in use (another "
                    + "viewer still running?). Stop that process, or choose another port with --port N (--port 0 "
                    + "picks a free one).", cause);
        }
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Cannot listen on " + host + ":" + port
                + ": " + message + ". Check --host (an address of this machine, e.g. 127.0.0.1 or 0.0.0.0) and --port "
                + "(0 picks a free one).", cause);
    }

    /** Where the viewer's feature files come from. */
    enum FeaturesOrigin {
        /** {@code --features-dir}. */
        GIVEN(""),
        /** The demo's dashboards, for the demo's transcoders. */
        DEMO(" (the demo's dashboards)"),
        /** Found with the transcoders: their {@code features/} subdirectory, or their directory itself. */
        TRANSCODERS(" (found with the transcoders; --features-dir DIR overrides)");

        private final String note;

        FeaturesOrigin(String note) {
            this.note = note;
        }
    }

    /** The viewer's feature files and where they come from. */
    record Features(Path directory, FeaturesOrigin origin) {

        /** {@code Features: DIR (origin)}, the one line that says which features directory is served. */
        String line() {
            return "Features: " + directory.toAbsolutePath().normalize() + origin.note;
        }
    }

    /**
     * The feature files for the viewer: {@code given} (which must exist); else the demo's dashboards when the demo's
     * transcoders are used; else, for transcoders given as a directory, their {@code features/} subdirectory (what
     * {@code circuit-tracer features --output-dir TRANSCODERS/features} writes) or the directory itself when it holds
     * feature files; else null. {@code resolved} may be null (no model). A demo without dashboards is noted and served
     * without them; feature files found with the transcoders are noted, as the one line saying which are served.
     */
    static Path features(Path given, ModelOptions.Resolved resolved, Consumer<String> note) {
        Features found = locateFeatures(given, resolved, note);
        if (found == null) {
            return null;
        }
        if (found.origin() == FeaturesOrigin.TRANSCODERS) {
            note.accept(found.line());
        }
        return found.directory();
    }

    /** As {@link #features}, noting only a demo without dashboards; null when there are none. */
    static Features locateFeatures(Path given, ModelOptions.Resolved resolved, Consumer<String> note) {
        if (given != null) {
            ModelOptions.requireDirectory(given, "--features-dir");
            return new Features(given, FeaturesOrigin.GIVEN);
        }
        Path demo = resolved == null ? null : demoFeatures(resolved.transcoderLabel());
        if (demo != null) {
            if (!Files.isDirectory(demo)) {
                note.accept("The demo has no feature files (" + demo + "); the viewer shows the graphs without them.");
                return null;
            }
            return new Features(demo, FeaturesOrigin.DEMO);
        }
        Path beside = resolved == null ? null : featuresBeside(resolved.transcoders());
        return beside == null ? null : new Features(beside, FeaturesOrigin.TRANSCODERS);
    }

    /**
     * The feature files kept with a transcoder directory: its {@code features/} subdirectory when that holds feature
     * files, else the directory itself when it does; null when neither does. Feature files: a packed
     * {@code index.json.gz}, or our {@code dashboards.json} manifest (both layouts).
     */
    static Path featuresBeside(Path transcoders) {
        if (transcoders == null || !Files.isDirectory(transcoders)) {
            return null;
        }
        for (Path candidate : new Path[] {transcoders.resolve("features"), transcoders}) {
            if (Files.isRegularFile(candidate.resolve("index.json.gz"))
                    || Files.isRegularFile(candidate.resolve("dashboards.json"))) {
                return candidate;
            }
        }
        return null;
    }

    /** The demo's dashboards for a transcoder label ({@code demo-plt}, {@code demo-clt}), or null for any other. */
    static Path demoFeatures(String transcoderLabel) {
        if (ModelOptions.DEMO_PLT.equals(transcoderLabel)) {
            return DemoModel.locate().perLayerFeatures();
        }
        if (ModelOptions.DEMO_CLT.equals(transcoderLabel)) {
            return DemoModel.locate().crossLayerFeatures();
        }
        return null;
    }

    /** The address that opens graph {@code slug} in the viewer at {@code base} ({@code http://host:port/}). */
    static String graphUrl(URI base, String slug) {
        return base + "?slug=" + URLEncoder.encode(slug, StandardCharsets.UTF_8);
    }

    /** The page's address a viewer on {@code host:port} would have (the same rule as {@link ViewerServer#url()}). */
    static URI address(String host, int port) {
        String h = host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
        if (h.contains(":")) {
            h = "[" + h + "]";
        }
        return URI.create("http://" + h + ":" + port + "/");
    }

    /** A command line for a shell: words with spaces or shell characters single-quoted. */
    static String shellCommand(List<String> words) {
        List<String> quoted = new ArrayList<>();
        for (String w : words) {
            quoted.add(w.matches("[A-Za-z0-9_@%+=:,./-]+") ? w : "'" + w.replace("'", "'\\''") + "'");
        }
        return String.join(" ", quoted);
    }

    /**
     * Waits for the end of the process (Ctrl-C, SIGTERM) or an interrupt of the waiting thread. Open it before the
     * resources the server uses, so that it closes last: the shutdown hook then waits (a few seconds at most) until
     * the server and the model are closed. An interrupt is a request to stop; the thread's interrupt status is set
     * again once everything is closed.
     */
    static final class StopSignal implements AutoCloseable {

        private final CountDownLatch stop = new CountDownLatch(1);
        private final CountDownLatch closed = new CountDownLatch(1);
        private final Thread hook;
        private boolean interrupted;

        StopSignal() {
            hook = new Thread(() -> {
                stop.countDown();
                try {
                    closed.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "circuit-tracer-stop");
            Runtime.getRuntime().addShutdownHook(hook);
        }

        /** Blocks until the process ends or this thread is interrupted. */
        void await() {
            try {
                stop.await();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }

        @Override
        public void close() {
            closed.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the process is shutting down: the hook is running
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
