package org.circuittracer.attribution.io;

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
 * Files that appear whole or not at all, for everything the project writes next to a user's data (graphs, graph
 * indexes, dashboards, annotations): the bytes go to a temporary file in the same directory ({@code .<name>.<random>.tmp}),
 * which is synced, renamed over the target, and the directory entry synced, so a crash at any moment leaves either
 * the old or the new content (and at worst a stray temporary file).
 */
public final class AtomicFiles {

    private AtomicFiles() {
    }

    /** Replaces {@code file} with {@code bytes}, durably. */
    public static void write(Path file, byte[] bytes) {
        write(file, bytes, true);
    }

    /**
     * Replaces {@code file} with {@code bytes}; without {@code sync} the rename is still atomic but neither the data
     * nor the rename is forced to disk (for many small files whose index is written durably last).
     *
     * @throws CircuitTracerException FILE_NOT_FOUND when the directory cannot be written
     */
    public static void write(Path file, byte[] bytes, boolean sync) {
        Path target = file.toAbsolutePath();
        Path tmp = temporaryFor(target);
        boolean moved = false;
        try {
            Files.createDirectories(target.getParent());
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                if (sync) {
                    ch.force(true);
                }
            }
            move(tmp, target, sync);
            moved = true;
        } catch (IOException e) {
            throw cannotWrite(target, e);
        } finally {
            if (!moved) {
                deleteQuietly(tmp);
            }
        }
    }

    /** A fresh temporary path beside {@code file}, for writers that stream into it before {@link #move}. */
    public static Path temporaryFor(Path file) {
        Path target = file.toAbsolutePath();
        return target.getParent().resolve("." + target.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
    }

    /** Renames a finished (already synced, if wanted) temporary file over {@code target}; with {@code sync} the
     *  directory entry is synced too. */
    public static void move(Path tmp, Path target, boolean sync) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        if (sync) {
            syncDirectory(target.toAbsolutePath().getParent());
        }
    }

    /** Deletes {@code file} if it exists, ignoring failures (used on error paths, where the first error matters). */
    public static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // the original error matters more
        }
    }

    /** The standard error for a failed write. */
    public static CircuitTracerException cannotWrite(Path file, IOException e) {
        return new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot write " + file.toAbsolutePath()
                + ": " + e + ". Check that the directory is writable and the disk has space.", e);
    }

    /** Makes a rename durable; some file systems cannot open a directory, and then the rename is all there is. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort
        }
    }
}
