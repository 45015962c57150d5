package org.circuittracer.viewer;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.circuittracer.spi.CircuitTracerException;

/**
 * Serves a graph directory without a model until Ctrl-C:
 * {@code java -cp ... org.circuittracer.viewer.ViewerMain --graph-file-dir DIR [--features-dir DIR] [--port N]
 * [--host ADDRESS] [--frontend DIR]}. {@code circuit-tracer serve} offers the same with a model loaded (new graphs,
 * steering).
 */
public final class ViewerMain {

    private static final String USAGE = "usage: ViewerMain --graph-file-dir DIR [--features-dir DIR] [--port N (8041; "
            + "0 = any free)] [--host ADDRESS (127.0.0.1)] [--frontend DIR (another frontend's static files)]";

    private ViewerMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        ViewerConfig config;
        try {
            config = parse(args);
        } catch (IllegalArgumentException | CircuitTracerException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        CountDownLatch stop = new CountDownLatch(1);
        try (ViewerServer server = ViewerServer.start(config)) {
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
            System.out.println("Viewer running at " + server.url() + "  (Ctrl-C to stop)");
            stop.await();
        }
    }

    static ViewerConfig parse(String[] args) {
        Path graphs = null;
        Path features = null;
        Path frontend = null;
        int port = ViewerConfig.DEFAULT_PORT;
        String host = ViewerConfig.DEFAULT_HOST;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--graph-file-dir", "--graph_file_dir" -> graphs = Path.of(require(args[i], value));
                case "--features-dir", "--features_dir" -> features = Path.of(require(args[i], value));
                case "--host" -> host = require(args[i], value);
                case "--frontend" -> frontend = Path.of(require(args[i], value));
                case "--port" -> {
                    try {
                        port = Integer.parseInt(require(args[i], value));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("--port needs a number, got '" + value + "'");
                    }
                }
                default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'");
            }
            i++;
        }
        if (graphs == null) {
            throw new IllegalArgumentException("--graph-file-dir is required");
        }
        return ViewerConfig.of(graphs).withFeaturesDir(features).withHost(host).withPort(port)
                .withFrontendDir(frontend);
    }

    private static String require(String option, String value) {
        if (value == null) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return value;
    }
}
