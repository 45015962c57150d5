package org.circuittracer.dashboards;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * Where a contiguous slice of a corpus starts: how many documents and how many sequences (chunks) come before it.
 * Sampling priorities and tie-breaks are keyed by a sequence's number in the whole corpus, so a slice processed on
 * its own ({@link FeatureDashboards#collectPartial}) must know it to give exactly what one pass gives;
 * {@link FeatureDashboards#sequences} counts a slice's sequences without running the model.
 *
 * @param firstDocument documents before the slice (its first document is number {@code firstDocument + 1})
 * @param firstSequence sequences the documents before the slice are split into
 */
public record CorpusSlice(long firstDocument, long firstSequence) implements java.io.Serializable {

    /** The start of the corpus. */
    public static final CorpusSlice START = new CorpusSlice(0, 0);

    public CorpusSlice {
        if (firstDocument < 0 || firstSequence < 0) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "A corpus slice starts at a "
                    + "non-negative document and sequence, got " + firstDocument + " and " + firstSequence + ".");
        }
    }

    /** The slice that follows one starting here with {@code documents} documents split into {@code sequences}. */
    public CorpusSlice after(long documents, long sequences) {
        return new CorpusSlice(firstDocument + documents, firstSequence + sequences);
    }
}
