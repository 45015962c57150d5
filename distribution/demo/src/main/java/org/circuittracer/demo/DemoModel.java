package org.circuittracer.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * Where the embedded demo lives on disk: {@code model/} (a Hugging Face directory), {@code transcoders-plt/},
 * {@code transcoders-clt/} (reference layout) and {@code features/} (dashboards).
 *
 * <p>The artifacts are class-path resources. When they are plain files (a build tree) they are used in place; when
 * they are inside a jar they are copied once to {@code ~/.cache/circuit-tracer/demo/<digest>/} (weights are
 * memory-mapped, which needs real files), through a temporary directory renamed into place so that a crash or a
 * concurrent first use never leaves a half-copied demo behind.
 */
public final class DemoModel {

    /** The resource folder of the artifacts. */
    public static final String RESOURCE_ROOT = "org/circuittracer/demo/artifacts/";
    /** Lists every artifact file, one {@code relative-path sha256} per line; written by the recipe. */
    public static final String INDEX = "FILES";

    private final Path root;

    private DemoModel(Path root) {
        this.root = root;
    }

    /** The demo's directory, extracting it from the jar on first use. */
    public static DemoModel locate() {
        URL index = DemoModel.class.getClassLoader().getResource(RESOURCE_ROOT + INDEX);
        if (index == null) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The embedded demo model is not on the "
                    + "class path (resource " + RESOURCE_ROOT + INDEX + " missing). Name a model with --model, or "
                    + "rebuild circuit-tracer-demo.");
        }
        try {
            if ("file".equals(index.getProtocol())) {
                return new DemoModel(Path.of(index.toURI()).getParent());
            }
            return new DemoModel(extract(index));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack the embedded demo model: " + e.getMessage(), e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A demo directory laid out as the recipe writes it (e.g. freshly reproduced artifacts). */
    public static DemoModel at(Path directory) {
        return new DemoModel(directory);
    }

    public Path root() {
        return root;
    }

    /** The Hugging Face model directory. */
    public Path model() {
        return root.resolve("model");
    }

    /** The per-layer transcoders (reference {@code transcoder_set} layout). */
    public Path perLayerTranscoders() {
        return root.resolve("transcoders-plt");
    }

    /** The cross-layer transcoder (reference {@code cross_layer_transcoder} layout). */
    public Path crossLayerTranscoders() {
        return root.resolve("transcoders-clt");
    }

    /** The feature dashboards of the per-layer transcoders. */
    public Path perLayerFeatures() {
        return root.resolve("features-plt");
    }

    /** The feature dashboards of the cross-layer transcoder. */
    public Path crossLayerFeatures() {
        return root.resolve("features-clt");
    }

    private static Path extract(URL index) throws IOException {
        byte[] listing;
        try (InputStream in = index.openStream()) {
            listing = in.readAllBytes();
        }
        List<String> files = new String(listing, StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank())
                .map(l -> l.split(" ")[0]).toList();
        Path cache = Path.of(System.getProperty("user.home"), ".cache", "circuit-tracer", "demo");
        Path target = cache.resolve(digest(listing));
        if (Files.isRegularFile(target.resolve(INDEX))) {
            return target;
        }
        Files.createDirectories(cache);
        Path temp = Files.createTempDirectory(cache, ".unpacking-");
        for (String file : files) {
            if (file.startsWith("/") || file.contains("..")) {
                throw new IOException("bad entry in the demo index: " + file);
            }
            Path out = temp.resolve(file);
            Files.createDirectories(out.getParent());
            try (InputStream in = DemoModel.class.getClassLoader().getResourceAsStream(RESOURCE_ROOT + file)) {
                if (in == null) {
                    throw new IOException("the demo index lists " + file + " but the jar lacks it");
                }
                Files.copy(in, out);
            }
        }
        Files.write(temp.resolve(INDEX), listing);
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
            // another process won the race; its copy is complete because it was renamed into place whole
            deleteTree(temp);
        } catch (IOException e) {
            if (!Files.isRegularFile(target.resolve(INDEX))) {
                throw e;
            }
            deleteTree(temp);
        }
        return target;
    }

    /** Writes the index of every file under {@code root} (the recipe's last step). */
    public static void writeIndex(Path root) {
        try (var walk = Files.walk(root)) {
            StringBuilder index = new StringBuilder();
            for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                String relative = root.relativize(p).toString().replace('\\', '/');
                if (!relative.equals(INDEX)) {
                    index.append(relative).append(' ').append(digestHex(Files.readAllBytes(p))).append('\n');
                }
            }
            Files.writeString(root.resolve(INDEX), index.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String digestHex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String digest(byte[] listing) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(listing)).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
