package org.circuittracer.viewer;

import java.nio.file.Path;
import java.util.Objects;
import org.circuittracer.viewer.work.ModelWorkbench;

/**
 * How to run a viewer server.
 *
 * @param graphDir     the graph directory ({@code graph-metadata.json}, {@code <slug>.json}); annotations are stored
 *                     here too
 * @param featuresDir  feature files (packed {@code index.json.gz} + {@code .bin}, or {@code <feature>.json}), or
 *                     {@code null}
 * @param host         the address to bind; {@code 127.0.0.1} unless the user asks for more
 * @param port         the port; 0 picks a free one
 * @param workbench    a loaded model for new graphs and steering, or {@code null} to serve files only
 * @param maxBodyBytes the largest request body accepted
 * @param frontendDir  another frontend's static files (e.g. the reference's {@code frontend/assets}) to serve at
 *                     {@code /} instead of our UI, every data route kept; or {@code null} for ours
 */
public record ViewerConfig(Path graphDir, Path featuresDir, String host, int port, ModelWorkbench workbench,
                           long maxBodyBytes, Path frontendDir) {

    /** The reference's port. */
    public static final int DEFAULT_PORT = 8041;
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final long DEFAULT_MAX_BODY_BYTES = 4L << 20;

    public ViewerConfig {
        Objects.requireNonNull(graphDir, "graphDir");
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw ViewerErrors.badRequest("The port must be in [0, 65535] (0 = any free port), got " + port + ".");
        }
        if (maxBodyBytes < 1024) {
            throw ViewerErrors.badRequest("The body size limit must be at least 1024 bytes, got " + maxBodyBytes + ".");
        }
    }

    /** The configuration with our own UI. */
    public ViewerConfig(Path graphDir, Path featuresDir, String host, int port, ModelWorkbench workbench,
                        long maxBodyBytes) {
        this(graphDir, featuresDir, host, port, workbench, maxBodyBytes, null);
    }

    /** Serves {@code graphDir} on 127.0.0.1:8041, without features or a model, with our UI. */
    public static ViewerConfig of(Path graphDir) {
        return new ViewerConfig(graphDir, null, DEFAULT_HOST, DEFAULT_PORT, null, DEFAULT_MAX_BODY_BYTES, null);
    }

    public ViewerConfig withFeaturesDir(Path dir) {
        return new ViewerConfig(graphDir, dir, host, port, workbench, maxBodyBytes, frontendDir);
    }

    public ViewerConfig withHost(String newHost) {
        return new ViewerConfig(graphDir, featuresDir, newHost, port, workbench, maxBodyBytes, frontendDir);
    }

    public ViewerConfig withPort(int newPort) {
        return new ViewerConfig(graphDir, featuresDir, host, newPort, workbench, maxBodyBytes, frontendDir);
    }

    public ViewerConfig withWorkbench(ModelWorkbench newWorkbench) {
        return new ViewerConfig(graphDir, featuresDir, host, port, newWorkbench, maxBodyBytes, frontendDir);
    }

    public ViewerConfig withMaxBodyBytes(long bytes) {
        return new ViewerConfig(graphDir, featuresDir, host, port, workbench, bytes, frontendDir);
    }

    /**
     * Serves the static files of {@code dir} at {@code /} instead of our UI (e.g. the reference frontend's
     * {@code assets} directory); the data routes ({@code /data/}, {@code /graph_data/}, {@code /features/},
     * {@code /save_graph/}, {@code /api/}) stay. {@code null}: our UI.
     */
    public ViewerConfig withFrontendDir(Path dir) {
        return new ViewerConfig(graphDir, featuresDir, host, port, workbench, maxBodyBytes, dir);
    }
}
