package org.circuittracer.viewer.files;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.viewer.ViewerErrorCode;

/**
 * One satisfiable byte range of a file, inclusive at both ends (HTTP {@code Range: bytes=…}). Understands
 * {@code a-b}, {@code a-} and the suffix form {@code -n}; an end past the file is clamped to its last byte, so the
 * reference viewer's one-byte-too-long requests (docs/reference/graph-format.md §4.4) are served.
 *
 * @param start first byte
 * @param end   last byte, {@code start ≤ end < size}
 * @param size  the file's size
 */
public record ByteRange(long start, long end, long size) {

    public long length() {
        return end - start + 1;
    }

    /** {@code bytes start-end/size}. */
    public String contentRange() {
        return "bytes " + start + "-" + end + "/" + size;
    }

    /**
     * @throws CircuitTracerException RANGE_NOT_SATISFIABLE for a malformed header, several ranges, or a range that
     *         starts at or past the end of the file
     */
    public static ByteRange parse(String header, long size) {
        String h = header.trim();
        if (!h.startsWith("bytes=")) {
            throw unsatisfiable("Range '" + header + "' is not a byte range; use bytes=START-END.", size);
        }
        String spec = h.substring("bytes=".length()).trim();
        if (spec.contains(",")) {
            throw unsatisfiable("Range '" + header + "' asks for several ranges; ask for one at a time.", size);
        }
        int dash = spec.indexOf('-');
        if (dash < 0) {
            throw unsatisfiable("Range '" + header + "' has no '-'; use bytes=START-END.", size);
        }
        try {
            String a = spec.substring(0, dash).trim();
            String b = spec.substring(dash + 1).trim();
            if (a.isEmpty()) {
                long suffix = Long.parseLong(b);
                if (suffix <= 0 || size == 0) {
                    throw unsatisfiable("Range '" + header + "' selects no bytes of a " + size + "-byte file.", size);
                }
                return new ByteRange(Math.max(0, size - suffix), size - 1, size);
            }
            long start = Long.parseLong(a);
            long end = b.isEmpty() ? size - 1 : Long.parseLong(b);
            if (start >= size) {
                throw unsatisfiable("Range '" + header + "' starts at or past the end of the " + size
                        + "-byte file.", size);
            }
            if (start < 0 || end < start) {
                throw unsatisfiable("Range '" + header + "' is empty or reversed.", size);
            }
            return new ByteRange(start, Math.min(end, size - 1), size);
        } catch (NumberFormatException e) {
            throw unsatisfiable("Range '" + header + "' has a number that is not a non-negative integer.", size);
        }
    }

    private static CircuitTracerException unsatisfiable(String message, long size) {
        return new CircuitTracerException(ViewerErrorCode.RANGE_NOT_SATISFIABLE, message + " (file size " + size + ")");
    }
}
