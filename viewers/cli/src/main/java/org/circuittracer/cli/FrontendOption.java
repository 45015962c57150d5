package org.circuittracer.cli;

import java.nio.file.Files;
import java.nio.file.Path;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

import picocli.CommandLine.Option;

/**
 * {@code --frontend DIR}, shared by {@code serve} and {@code attribute --server}: another frontend's static files
 * (e.g. the Python circuit-tracer's {@code circuit_tracer/frontend/assets}) served at {@code /} instead of our viewer,
 * every data route kept. Mix it in with {@code @CommandLine.Mixin FrontendOption frontend = new FrontendOption();} and
 * pass {@link #checked()} to {@code ViewerConfig.withFrontendDir}.
 */
final class FrontendOption {

    @Option(names = "--frontend", paramLabel = "DIR", order = 0,
            description = "Serve another frontend at / instead of ours: the static files of DIR, e.g. the Python "
                    + "circuit-tracer's circuit_tracer/frontend/assets (its graph page then loads feature examples "
                    + "from this server's /features/ for graphs of local transcoders). The data routes (/data/, "
                    + "/graph_data/, /features/, /save_graph/, /api/) stay; files are served from DIR only.")
    Path directory;

    /**
     * The frontend directory, checked before anything is loaded, or null for ours.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND when it is not a directory with an {@code index.html}
     */
    Path checked() {
        if (directory == null) {
            return null;
        }
        ModelOptions.requireDirectory(directory, "--frontend");
        if (!Files.isRegularFile(directory.resolve("index.html"))) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "--frontend " + directory + " has no "
                    + "index.html. Give the directory that holds the frontend's index.html (for the Python "
                    + "circuit-tracer: circuit_tracer/frontend/assets).");
        }
        return directory;
    }
}
