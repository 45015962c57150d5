package org.circuittracer.spark;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * One line of a text corpus decoded strictly as UTF-8 on an executor: the text, or the fact that its bytes are not
 * UTF-8 (reported with the line's number once it is known).
 *
 * @param text  the decoded line, or null when {@code valid} is false
 * @param valid whether the bytes were UTF-8
 */
record Utf8Line(String text, boolean valid) implements Serializable {

    /** The first {@code length} bytes of {@code bytes} (a reused Hadoop buffer, read now). */
    static Utf8Line decode(byte[] bytes, int length) {
        try {
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, 0, length))
                    .toString();
            return new Utf8Line(text, true);
        } catch (CharacterCodingException e) {
            return new Utf8Line(null, false);
        }
    }

    /**
     * The text of line {@code number} of {@code file}.
     *
     * @throws CircuitTracerException MALFORMED_FILE when its bytes are not UTF-8, as the single pass refuses it
     */
    String text(String file, long number) {
        if (!valid) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "The corpus file " + file + " is not "
                    + "valid UTF-8 (the first bad byte is at or after line " + number + "). Convert it to UTF-8.");
        }
        return text;
    }
}
