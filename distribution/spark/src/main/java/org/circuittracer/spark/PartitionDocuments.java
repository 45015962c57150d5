package org.circuittracer.spark;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import org.circuittracer.dashboards.Corpus;
import org.circuittracer.dashboards.CorpusDocument;

/**
 * The documents of one partition's lines as a corpus read once, streamed (a partition is never held in memory); it
 * remembers the line of the last document handed out, so that an error can name it.
 */
final class PartitionDocuments implements Corpus {

    private final CorpusInput input;
    private final Iterator<CorpusLine> lines;
    private CorpusLine current;
    private long handedOut;

    PartitionDocuments(CorpusInput input, Iterator<CorpusLine> lines) {
        this.input = input;
        this.lines = lines;
    }

    @Override
    public long size() {
        return -1;
    }

    @Override
    public Stream<CorpusDocument> documents() {
        Iterator<CorpusDocument> docs = new Iterator<>() {
            private CorpusDocument next;

            @Override
            public boolean hasNext() {
                while (next == null && lines.hasNext()) {
                    CorpusLine line = lines.next();
                    CorpusDocument d = input.document(line);
                    if (d != null) {
                        current = line;
                        next = d;
                    }
                }
                return next != null;
            }

            @Override
            public CorpusDocument next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                CorpusDocument d = next;
                next = null;
                handedOut++;
                return d;
            }
        };
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(docs, Spliterator.ORDERED
                | Spliterator.NONNULL), false);
    }

    /** Where the last document handed out (or being read) is, for messages; null before the first. */
    String where() {
        return current == null ? null : input.where(current);
    }

    /** Documents handed out so far. */
    long handedOut() {
        return handedOut;
    }
}
