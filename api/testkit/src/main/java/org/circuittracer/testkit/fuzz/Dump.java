package org.circuittracer.testkit.fuzz;

import java.nio.charset.StandardCharsets;

/** A hex and text dump of an input, for failure reports. */
public final class Dump {

    private Dump() {
    }

    /**
     * The first {@code limit} bytes: the text (UTF-8, control characters escaped) when the input is mostly printable,
     * then a hex dump of 16 bytes a line with offsets.
     */
    public static String of(byte[] input, int limit) {
        int n = Math.min(input.length, limit);
        StringBuilder sb = new StringBuilder();
        int printable = 0;
        for (int i = 0; i < n; i++) {
            int b = input[i] & 0xFF;
            if (b >= 0x20 && b < 0x7F || b == '\n' || b == '\t' || b == '\r') {
                printable++;
            }
        }
        if (n > 0 && printable * 10 >= n * 8) {
            String text = new String(input, 0, n, StandardCharsets.UTF_8);
            sb.append("text:\n");
            text.codePoints().forEach(c -> {
                if (c == '\n' || c == '\t' || c >= 0x20 && c != 0x7F) {
                    sb.appendCodePoint(c);
                } else {
                    sb.append(String.format("\\x%02x", c));
                }
            });
            sb.append('\n');
        }
        sb.append("hex:\n");
        for (int line = 0; line < n; line += 16) {
            sb.append(String.format("%08x ", line));
            StringBuilder ascii = new StringBuilder();
            for (int i = line; i < line + 16; i++) {
                if (i < n) {
                    int b = input[i] & 0xFF;
                    sb.append(String.format(" %02x", b));
                    ascii.append(b >= 0x20 && b < 0x7F ? (char) b : '.');
                } else {
                    sb.append("   ");
                }
            }
            sb.append("  |").append(ascii).append("|\n");
        }
        if (input.length > n) {
            sb.append("... ").append(input.length - n).append(" more bytes\n");
        }
        return sb.toString();
    }
}
