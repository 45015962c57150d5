package org.circuittracer.dashboards;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.NoSuchElementException;
import org.circuittracer.dashboards.Corpus.Format;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/** Reads the documents of a corpus file line by line. */
final class CorpusLines implements Iterator<CorpusDocument> {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final Format format;
    private final BufferedReader reader;
    private CorpusDocument next;
    private long line;

    CorpusLines(Path file, Format format, BufferedReader reader) {
        this.file = file;
        this.format = format;
        this.reader = reader;
    }

    @Override
    public boolean hasNext() {
        while (next == null) {
            String text;
            try {
                text = reader.readLine();
            } catch (CharacterCodingException e) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "The corpus file " + file
                        + " is not valid UTF-8 (the first bad byte is at or after line " + (line + 1) + "). Convert it "
                        + "to UTF-8.", e);
            } catch (IOException | UncheckedIOException e) {
                throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot read the corpus file "
                        + file + " at line " + (line + 1) + ": " + e.getMessage(), e);
            }
            if (text == null) {
                return false;
            }
            line++;
            if (!text.isBlank()) {
                next = document(file, format, line, text);
            }
        }
        return true;
    }

    @Override
    public CorpusDocument next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        CorpusDocument d = next;
        next = null;
        return d;
    }

    /** The document of one non-blank line. */
    static CorpusDocument document(Path file, Format format, long line, String text) {
        return format == Format.TEXT ? new CorpusDocument.Text(text) : parse(file, format, line, text);
    }

    private static CorpusDocument parse(Path file, Format format, long line, String text) {
        JsonNode value;
        try {
            value = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw malformed(file, format, line, "is not JSON (" + e.getOriginalMessage() + ")");
        }
        if (value.isObject()) {
            if (value.path("text").isTextual()) {
                return new CorpusDocument.Text(value.get("text").asText());
            }
            JsonNode ids = value.has("tokens") ? value.get("tokens") : value.get("input_ids");
            if (ids != null) {
                return tokens(file, format, line, ids);
            }
        } else if (value.isTextual()) {
            return new CorpusDocument.Text(value.asText());
        } else if (value.isArray()) {
            return tokens(file, format, line, value);
        }
        throw malformed(file, format, line, "has neither a \"text\" string nor \"tokens\"/\"input_ids\" token ids");
    }

    private static CorpusDocument tokens(Path file, Format format, long line, JsonNode ids) {
        if (!ids.isArray() || ids.isEmpty()) {
            throw malformed(file, format, line, "has no token ids (expected a non-empty array of non-negative integers)");
        }
        int[] out = new int[ids.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode id = ids.get(i);
            if (!id.canConvertToInt() || !id.isIntegralNumber() || id.intValue() < 0) {
                throw malformed(file, format, line, "has token id " + id + " at index " + i + "; token ids are non-negative integers");
            }
            out[i] = id.intValue();
        }
        return new CorpusDocument.Tokens(out);
    }

    private static CircuitTracerException malformed(Path file, Format format, long lineNumber, String problem) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "Line " + lineNumber
                + " of the corpus file " + file + " " + problem + ". Each line of a " + format.name()
                .toLowerCase(Locale.ROOT) + " corpus is " + (format == Format.TEXT ? "a text."
                : "{\"text\": \"...\"} or {\"tokens\": [ids]}."));
    }
}
