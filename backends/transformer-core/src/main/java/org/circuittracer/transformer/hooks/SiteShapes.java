package org.circuittracer.transformer.hooks;

import org.circuittracer.spi.site.SiteKind;

/**
 * The concrete shape of every site kind in one pass, as {@link SiteKind} documents them. A pass computes
 * {@code positions} consecutive positions starting at {@code firstPosition} of a sequence: a whole forward pass starts
 * at 0, an incremental generation step computes one position {@code t} on top of a key/value cache. Position-wise
 * sites then hold {@code positions} rows; an attention pattern holds {@code [H, positions, firstPosition + positions]}
 * (the new queries against every key so far).
 *
 * @param firstPosition the absolute position of the pass's first row
 * @param positions     how many positions the pass computes ({@code T} for a whole pass, 1 for a generation step)
 * @param modelWidth    {@code d}
 * @param heads         {@code H}
 * @param vocabulary    {@code V}
 */
public record SiteShapes(int firstPosition, int positions, int modelWidth, int heads, int vocabulary) {

    /** A whole forward pass over {@code length} positions. */
    public SiteShapes(int length, int modelWidth, int heads, int vocabulary) {
        this(0, length, modelWidth, heads, vocabulary);
    }

    public SiteShapes {
        if (firstPosition < 0 || positions <= 0) {
            throw new IllegalArgumentException("bad pass: " + positions + " positions from " + firstPosition);
        }
    }

    /** The length of the sequence once this pass is done: what hook positions are resolved against. */
    public int sequenceLength() {
        return firstPosition + positions;
    }

    /** Whether the pass continues a sequence whose earlier positions are cached. */
    public boolean incremental() {
        return firstPosition > 0;
    }

    /** The value's shape at a site of this kind. */
    public long[] of(SiteKind kind) {
        return switch (kind) {
            case ATTN_PATTERN -> new long[] {heads, positions, sequenceLength()};
            case LN1_SCALE, LN1_POST_SCALE, LN2_SCALE, LN2_POST_SCALE, FINAL_SCALE -> new long[] {positions, 1};
            case LOGITS -> new long[] {positions, vocabulary};
            default -> new long[] {positions, modelWidth};
        };
    }

    /** The axis that runs over positions: query positions for attention patterns, the first axis otherwise. */
    public static int positionAxis(SiteKind kind) {
        return kind == SiteKind.ATTN_PATTERN ? 1 : 0;
    }
}
