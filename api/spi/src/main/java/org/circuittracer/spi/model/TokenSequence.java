package org.circuittracer.spi.model;

import java.util.Arrays;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * A non-empty sequence of token ids, position 0 first. Immutable: the array is copied in and out.
 *
 * @param ids the token ids, each ≥ 0
 */
public record TokenSequence(int[] ids) {

    public TokenSequence {
        if (ids == null || ids.length == 0) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT,
                    "The prompt is empty. Give at least one token (a text or a list of token ids).");
        }
        ids = ids.clone();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT,
                        "Token id " + ids[i] + " at position " + i + " is negative; token ids start at 0.");
            }
        }
    }

    public static TokenSequence of(int... ids) {
        return new TokenSequence(ids);
    }

    @Override
    public int[] ids() {
        return ids.clone();
    }

    public int length() {
        return ids.length;
    }

    public int get(int position) {
        return ids[position];
    }

    /**
     * Checks every id against a vocabulary size.
     *
     * @throws CircuitTracerException (INVALID_ARGUMENT) naming the first offending position and id
     */
    public TokenSequence requireInVocabulary(int vocabularySize) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] >= vocabularySize) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT,
                        "Token id " + ids[i] + " at position " + i + " is outside the vocabulary [0, "
                                + vocabularySize + "). Check that the prompt was tokenised for this model.");
            }
        }
        return this;
    }

    /** This sequence followed by {@code more}. */
    public TokenSequence append(int... more) {
        int[] joined = Arrays.copyOf(ids, ids.length + more.length);
        System.arraycopy(more, 0, joined, ids.length, more.length);
        return new TokenSequence(joined);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TokenSequence that && Arrays.equals(ids, that.ids);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ids);
    }

    @Override
    public String toString() {
        return "TokenSequence" + Arrays.toString(ids);
    }
}
