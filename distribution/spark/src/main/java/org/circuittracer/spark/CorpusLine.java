package org.circuittracer.spark;

import java.io.Serializable;

/**
 * One line (text, JSON Lines) or row (Parquet) of a corpus, with where it came from, for error messages and order.
 *
 * @param file   the index of its file among the corpus's files (name order)
 * @param number its 1-based line or row number in that file
 * @param text   the line, or the row's {@code text} (null for a null cell)
 */
record CorpusLine(int file, long number, String text) implements Serializable {

    /** Sorts lines into corpus order: by file, then by number. */
    long order() {
        return ((long) file << 44) | number;
    }
}
