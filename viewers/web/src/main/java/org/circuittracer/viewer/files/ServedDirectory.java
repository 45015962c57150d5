package org.circuittracer.viewer.files;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.circuittracer.viewer.ViewerErrors;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * A directory the server reads from, with every request path confined to it: percent-decoded once, no {@code ..} or
 * {@code .} segments, no absolute paths or backslashes, and the real path (symbolic links followed) still inside.
 * Directories are never served (no listings).
 */
public final class ServedDirectory {

    private final Path root;
    private final Path realRoot;
    private final String name;

    /**
     * @param root the directory
     * @param name what the directory is, for messages ("graph directory", "features directory")
     */
    public ServedDirectory(Path root, String name) {
        this.name = name;
        if (!Files.isDirectory(root)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The " + name + " " + root
                    + " is not a directory. Give an existing directory.");
        }
        this.root = root.toAbsolutePath().normalize();
        try {
            this.realRoot = root.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path root() {
        return realRoot;
    }

    /**
     * The regular file a request path names.
     *
     * @param rawPath the path below the route prefix, still percent-encoded (as sent)
     * @throws CircuitTracerException FORBIDDEN_PATH for a path that leaves the directory, NOT_FOUND when there is no
     *         such regular file
     */
    public Path resolveFile(String rawPath) {
        Path file = resolve(percentDecode(rawPath));
        // a half-written temporary file of an atomic write is never content
        if (!Files.isRegularFile(file) || FileWrites.isTemporary(file.getFileName().toString())) {
            throw ViewerErrors.notFound("No file '" + shorten(rawPath) + "' in the " + name + ".");
        }
        return file;
    }

    /** The path of a (possibly not yet existing) file, confined like {@link #resolveFile}. */
    public Path resolve(String relative) {
        if (relative.isEmpty() || relative.indexOf('\0') >= 0 || relative.indexOf('\\') >= 0
                || relative.startsWith("/")) {
            throw ViewerErrors.forbiddenPath("The path '" + shorten(relative) + "' is not a relative path inside the "
                    + name + ".");
        }
        for (String segment : relative.split("/", -1)) {
            if (segment.equals("..") || segment.equals(".") || segment.isEmpty()) {
                throw ViewerErrors.forbiddenPath("The path '" + shorten(relative) + "' has a '" + segment
                        + "' segment; only plain names inside the " + name + " are served.");
            }
        }
        Path candidate;
        try {
            candidate = root.resolve(relative).normalize();
        } catch (java.nio.file.InvalidPathException e) {
            throw ViewerErrors.badRequest("The path '" + shorten(relative) + "' is not a file name this system can "
                    + "hold (" + e.getReason() + ").");
        }
        if (!candidate.startsWith(root)) {
            throw ViewerErrors.forbiddenPath("The path '" + shorten(relative) + "' leaves the " + name + ".");
        }
        if (Files.exists(candidate, LinkOption.NOFOLLOW_LINKS) || Files.exists(candidate)) {
            try {
                Path real = candidate.toRealPath();
                if (!real.startsWith(realRoot)) {
                    throw ViewerErrors.forbiddenPath("The path '" + shorten(relative) + "' is a link that leaves the "
                            + name + ".");
                }
                return real;
            } catch (IOException e) {
                // a dangling link: treat as missing
                throw ViewerErrors.notFound("No file '" + shorten(relative) + "' in the " + name + ".");
            }
        }
        return candidate;
    }

    /** Decodes {@code %XX} escapes once (UTF-8); {@code +} stays a plus, as in paths. */
    public static String percentDecode(String raw) {
        if (raw.indexOf('%') < 0) {
            return raw;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(raw.length());
        int i = 0;
        while (i < raw.length()) {
            char c = raw.charAt(i);
            if (c == '%') {
                int hi = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
                int lo = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 2), 16) : -1;
                if (hi < 0 || lo < 0) {
                    throw ViewerErrors.badRequest("The path '" + shorten(raw) + "' has an invalid %-escape; write a "
                            + "literal % as %25.");
                }
                out.write(hi * 16 + lo);
                i += 3;
            } else {
                int cp = raw.codePointAt(i);
                out.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
                i += Character.charCount(cp);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String shorten(String s) {
        return s.length() <= 120 ? s : s.substring(0, 120) + "…";
    }
}
