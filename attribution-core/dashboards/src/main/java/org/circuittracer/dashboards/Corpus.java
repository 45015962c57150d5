package org.circuittracer.dashboards;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.TokenSequence;

/**
 * The documents dashboards are computed over, read once, in order. A file corpus is streamed: it is never held in
 * memory.
 */
public interface Corpus {

    /** How a corpus file is read. */
    enum Format {
        /** One text a line; blank lines are skipped. */
        TEXT,
        /**
         * One JSON value a line (blank lines skipped): an object with {@code "text"} (a string) or {@code "tokens"} /
         * {@code "input_ids"} (token ids), a bare string, or a bare array of token ids.
         */
        JSONL;

        /** {@link #JSONL} for {@code .jsonl} and {@code .ndjson} files, else {@link #TEXT}. */
        public static Format of(Path file) {
            String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
            return name.endsWith(".jsonl") || name.endsWith(".ndjson") ? JSONL : TEXT;
        }
    }

    /** The number of documents, or -1 when unknown. */
    long size();

    /** A pass over the documents; close it (a file corpus holds the file open). */
    Stream<CorpusDocument> documents();

    /** A corpus of texts. */
    static Corpus ofTexts(List<String> texts) {
        List<CorpusDocument> docs = texts.stream().<CorpusDocument>map(CorpusDocument.Text::new).toList();
        return of(docs);
    }

    /** A corpus of token-id sequences. */
    static Corpus ofTokens(List<TokenSequence> sequences) {
        List<CorpusDocument> docs = sequences.stream().<CorpusDocument>map(s -> new CorpusDocument.Tokens(s.ids()))
                .toList();
        return of(docs);
    }

    /** A corpus of documents held in memory. */
    static Corpus of(List<CorpusDocument> documents) {
        List<CorpusDocument> docs = List.copyOf(documents);
        return new Corpus() {
            @Override
            public long size() {
                return docs.size();
            }

            @Override
            public Stream<CorpusDocument> documents() {
                return docs.stream();
            }
        };
    }

    /** A corpus file in the format its name implies ({@link Format#of}). */
    static Corpus read(Path file) {
        return read(file, Format.of(file));
    }

    /**
     * A corpus file, streamed. Errors (a missing file, a malformed line) name the file and the line.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND when the file cannot be read
     */
    static Corpus read(Path file, Format format) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The corpus file " + file
                    + " does not exist or cannot be read. Give a text file (one document a line) or a .jsonl file.");
        }
        return new Corpus() {
            private long size = -2;

            @Override
            public synchronized long size() {
                if (size == -2) {
                    try (Stream<CorpusDocument> docs = documents()) {
                        size = docs.count();
                    }
                }
                return size;
            }

            @Override
            public Stream<CorpusDocument> documents() {
                BufferedReader reader;
                try {
                    reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot read the corpus file "
                            + file + ": " + e.getMessage(), e);
                }
                Iterator<CorpusDocument> lines = new CorpusLines(file, format, reader);
                return StreamSupport.stream(Spliterators.spliteratorUnknownSize(lines, Spliterator.ORDERED
                        | Spliterator.NONNULL), false).onClose(() -> {
                            try {
                                reader.close();
                            } catch (IOException ignored) {
                                // nothing was written
                            }
                        });
            }
        };
    }
}
