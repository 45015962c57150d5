package org.circuittracer.chat;

import java.util.Collections;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.circuittracer.spi.model.TokenSequence;

/**
 * A conversation rendered by the model's chat template, ready for attribution.
 *
 * @param text the rendered prompt text (special tokens spelled out, as the template writes them)
 * @param ids its tokens, encoded without adding special tokens again (the template wrote them)
 * @param templatePositions the positions in {@code ids} whose tokens come from the template (turn markers, role
 *        names, the generation prompt) rather than from a message's content; empty when they could not be told apart
 * @param warning why no positions are marked, when the message contents' token boundaries did not align with the
 *        template's
 */
public record ChatPrompt(String text, TokenSequence ids, Set<Integer> templatePositions, Optional<String> warning) {

    public ChatPrompt {
        SortedSet<Integer> positions = new TreeSet<>(templatePositions);
        if (!positions.isEmpty() && (positions.first() < 0 || positions.last() >= ids.length())) {
            throw new IllegalArgumentException("template positions " + positions + " outside [0, " + ids.length()
                    + ")");
        }
        templatePositions = Collections.unmodifiableSortedSet(positions);
    }

    /**
     * This prompt after one prepended token (the special token attribution puts at position 0 when the template did
     * not start with one): every position moves up by one, and the new position 0 counts as template.
     */
    public ChatPrompt prependedWith(int tokenId) {
        SortedSet<Integer> shifted = new TreeSet<>();
        if (warning.isEmpty()) {
            shifted.add(0);
        }
        templatePositions.forEach(p -> shifted.add(p + 1));
        int[] old = ids.ids();
        int[] prepended = new int[old.length + 1];
        prepended[0] = tokenId;
        System.arraycopy(old, 0, prepended, 1, old.length);
        return new ChatPrompt(text, new TokenSequence(prepended), shifted, warning);
    }
}
