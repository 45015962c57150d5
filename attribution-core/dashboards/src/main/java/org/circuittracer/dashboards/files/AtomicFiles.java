package org.circuittracer.dashboards.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * Files that appear whole or not at all: written to a temporary file in the same directory, then renamed over the
 * target. (The graph exporter's helper of the same name is package-private to its package; this one adds the
 * unsynced variant for the many small per-feature files and the rename of a file written elsewhere.)
 */
final class AtomicFiles {

    private AtomicFiles() {
    }

    /** Writes {@code bytes} to {@code file}; with {@code sync}, forced to disk before the rename. */
    static void write(Path file, byte[] bytes, boolean sync) {
        Path tmp = temporaryFor(file);
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                if (sync) {
                    ch.force(true);
                }
            }
            move(tmp, file);
            done = true;
        } catch (IOException e) {
            throw cannotWrite(file, e);
        } finally {
            if (!done) {
                deleteQuietly(tmp);
            }
        }
    }

    /** A fresh temporary path beside {@code file}. */
    static Path temporaryFor(Path file) {
        Path target = file.toAbsolutePath();
        return target.getParent().resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current()
                .nextLong()) + ".tmp");
    }

    /** Renames a finished temporary file over {@code target}. */
    static void move(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // the original error matters more
        }
    }

    static CircuitTracerException cannotWrite(Path file, IOException e) {
        return new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot write " + file.toAbsolutePath()
                + ": " + e + ". Check that the directory is writable and the disk has space.", e);
    }
}
