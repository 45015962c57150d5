package org.circuittracer.backend.djl.hooks;

import org.circuittracer.spi.site.SiteKind;

/**
 * The concrete shape of every site kind for one sequence, as {@link SiteKind} documents them.
 *
 * @param length     {@code T}
 * @param modelWidth {@code d}
 * @param heads      {@code H}
 * @param vocabulary {@code V}
 */
public record SiteShapes(int length, int modelWidth, int heads, int vocabulary) {

    /** The value's shape at a site of this kind. */
    public long[] of(SiteKind kind) {
        return switch (kind) {
            case ATTN_PATTERN -> new long[] {heads, length, length};
            case LN1_SCALE, LN1_POST_SCALE, LN2_SCALE, LN2_POST_SCALE, FINAL_SCALE -> new long[] {length, 1};
            case LOGITS -> new long[] {length, vocabulary};
            default -> new long[] {length, modelWidth};
        };
    }

    /** The axis that runs over positions: query positions for attention patterns, the first axis otherwise. */
    public static int positionAxis(SiteKind kind) {
        return kind == SiteKind.ATTN_PATTERN ? 1 : 0;
    }
}
