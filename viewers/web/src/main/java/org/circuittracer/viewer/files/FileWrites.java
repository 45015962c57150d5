package org.circuittracer.viewer.files;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.ReadOnlyFileSystemException;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.circuittracer.attribution.io.AtomicFiles;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.viewer.ViewerErrorCode;

/**
 * How the server replaces a file in the graph directory (annotations, {@code /save_graph}): {@link AtomicFiles}
 * ({@link #ATOMIC}), or, in tests, a writer that fails as a full disk or a read-only directory would. Failures become
 * {@link ViewerErrorCode#CANNOT_WRITE} with a message that says what to do; nothing is half-written either way.
 */
@FunctionalInterface
public interface FileWrites {

    /** Replaces {@code file} with {@code bytes}, whole or not at all. */
    void write(Path file, byte[] bytes);

    /** Temporary file, fsync, rename, directory fsync. */
    FileWrites ATOMIC = AtomicFiles::write;

    /** The temporary files {@link AtomicFiles} writes before its rename: {@code .<name>.<hex>.tmp}. */
    Pattern TEMPORARY = Pattern.compile("^\\..+\\.[0-9a-f]{1,16}\\.tmp$");

    /**
     * Temporary files older than this are left by a writer that died (a crash, {@code kill -9}); younger ones may
     * belong to a writer still running in another process (say {@code attribute} writing into the same directory).
     */
    Duration STALE_AFTER = Duration.ofSeconds(60);

    /** Whether {@code name} is one of {@link AtomicFiles}'s temporary files (never served, never listed). */
    static boolean isTemporary(String name) {
        return TEMPORARY.matcher(name).matches();
    }

    /**
     * Deletes the stale temporary files of interrupted writes directly in {@code dir} (not below it).
     *
     * @return how many were deleted; failures (a read-only directory) are ignored, those files are never served anyway
     */
    static int deleteStaleTemporaries(Path dir) {
        FileTime cutoff = FileTime.from(Instant.now().minus(STALE_AFTER));
        int deleted = 0;
        try (Stream<Path> list = Files.list(dir)) {
            for (Path p : (Iterable<Path>) list::iterator) {
                try {
                    if (isTemporary(p.getFileName().toString()) && Files.isRegularFile(p)
                            && Files.getLastModifiedTime(p).compareTo(cutoff) < 0 && Files.deleteIfExists(p)) {
                        deleted++;
                    }
                } catch (IOException ignored) {
                    // not ours to delete (permissions): it stays ignored
                }
            }
        } catch (IOException ignored) {
            // an unreadable directory fails later with a clear message of its own
        }
        return deleted;
    }

    /**
     * Writes through {@code writes}, turning any failure into {@link ViewerErrorCode#CANNOT_WRITE}.
     *
     * @param what what is saved, for the message ("the annotations of 'cat'")
     */
    static void write(FileWrites writes, Path file, byte[] bytes, String what) {
        try {
            writes.write(file, bytes);
        } catch (CircuitTracerException | java.io.UncheckedIOException | ReadOnlyFileSystemException
                 | SecurityException e) {
            throw cannotWrite(file, what, e);
        }
    }

    /** The failure to save {@code what} into {@code file}, with the reason (read-only, disk full) and what to do. */
    static CircuitTracerException cannotWrite(Path file, String what, Throwable e) {
        String reason = reason(e);
        String cause = switch (reason) {
            case "read-only" -> "the directory " + file.getParent() + " is not writable. Make it writable (or serve a "
                    + "copy of it from a writable place)";
            case "full" -> "the disk holding " + file.getParent() + " is full. Free some space";
            default -> "writing " + file + " failed (" + rootMessage(e) + "). Check the directory and the disk";
        };
        return new CircuitTracerException(ViewerErrorCode.CANNOT_WRITE, "Could not save " + what + ": " + cause
                + ", then save again. Nothing was changed: the previously saved version is intact.", e);
    }

    /** "read-only", "full" or "other", from the exception and its causes. */
    private static String reason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
            if (t instanceof AccessDeniedException || t instanceof ReadOnlyFileSystemException
                    || m.contains("read-only file system") || m.contains("permission denied")) {
                return "read-only";
            }
            if (m.contains("no space left") || m.contains("disk quota exceeded") || m.contains("not enough space")) {
                return "full";
            }
        }
        return "other";
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.toString();
    }
}
