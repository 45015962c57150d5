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

    /**
     * One line of a corpus file, read as {@link #read(Path, Format)} reads it: its document, or empty for a blank line.
     * For engines that split a file themselves (Spark); errors name {@code file} and the (1-based) line number.
     *
     * @throws CircuitTracerException MALFORMED_FILE for a malformed JSON Lines line
     */
    static java.util.Optional<CorpusDocument> line(Path file, Format format, long lineNumber, String text) {
        return text.isBlank() ? java.util.Optional.empty()
                : java.util.Optional.of(CorpusLines.document(file, format, lineNumber, text));
    }

    /**
     * A corpus file in the format its name implies ({@link Format#of}), or a directory of them
     * ({@link #files(Path)}: one corpus, the files in name order, each in the format its name implies).
     */
    static Corpus read(Path file) {
        return Files.isDirectory(file) ? concat(files(file), null) : read(file, Format.of(file));
    }

    /**
     * The corpus files of a directory, in name order: its regular files except hidden ones and those starting with
     * {@code _} (such as a {@code _SUCCESS} marker). The distributed {@code features} command reads a directory in the
     * same order.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND when the directory cannot be listed or holds no such file
     */
    static List<Path> files(Path directory) {
        List<Path> files;
        try (Stream<Path> list = Files.list(directory)) {
            files = list.filter(Files::isRegularFile).filter(p -> {
                String name = p.getFileName().toString();
                return !name.startsWith(".") && !name.startsWith("_");
            }).sorted(java.util.Comparator.comparing(p -> p.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot list the corpus directory "
                    + directory + ": " + e.getMessage(), e);
        }
        if (files.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The corpus directory " + directory
                    + " holds no corpus file. Put text or .jsonl files in it, or give a file.");
        }
        return files;
    }

    /** The files one after the other, each in {@code format}, or in the format its name implies when null. */
    private static Corpus concat(List<Path> files, Format format) {
        List<Corpus> parts = files.stream().map(f -> read(f, format != null ? format : Format.of(f))).toList();
        return new Corpus() {
            @Override
            public long size() {
                return parts.stream().mapToLong(Corpus::size).sum();
            }

            @Override
            public Stream<CorpusDocument> documents() {
                // a chained iterator, not flatMap: flatMap behind an iterator buffers a whole file's documents
                Iterator<Corpus> files = parts.iterator();
                Stream<?>[] open = new Stream<?>[1];
                Iterator<CorpusDocument> chained = new Iterator<>() {
                    private Iterator<CorpusDocument> current = java.util.Collections.emptyIterator();

                    @Override
                    public boolean hasNext() {
                        while (!current.hasNext() && files.hasNext()) {
                            if (open[0] != null) {
                                open[0].close();
                            }
                            Stream<CorpusDocument> docs = files.next().documents();
                            open[0] = docs;
                            current = docs.iterator();
                        }
                        return current.hasNext();
                    }

                    @Override
                    public CorpusDocument next() {
                        if (!hasNext()) {
                            throw new java.util.NoSuchElementException();
                        }
                        return current.next();
                    }
                };
                return StreamSupport.stream(Spliterators.spliteratorUnknownSize(chained, Spliterator.ORDERED
                        | Spliterator.NONNULL), false).onClose(() -> {
                            if (open[0] != null) {
                                open[0].close();
                            }
                        });
            }
        };
    }

    /**
     * A corpus file, streamed. Errors (a missing file, a malformed line) name the file and the line.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND when the file cannot be read
     */
    static Corpus read(Path file, Format format) {
        if (Files.isDirectory(file)) {
            return concat(files(file), format);
        }
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
