package org.circuittracer.spark;

import java.io.Serializable;
import java.util.List;

/**
 * One prompt of the input, numbered from 1 in input order.
 *
 * @param text    the prompt text, or null when {@code ids} is given
 * @param ids     token ids, or null
 * @param slug    the graph's name (given or made from the text)
 * @param targets {@code target} values, or null for the most likely next tokens
 * @param problem why the row cannot run (bad input found while reading), or null
 */
record PromptRow(int number, String text, int[] ids, String slug, List<String> targets, String problem)
        implements Serializable {

    /** The prompt as the summary shows it: the text, or the ids. */
    String shown() {
        if (text != null) {
            return text;
        }
        if (ids == null) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        for (int id : ids) {
            b.append(b.length() == 0 ? "" : ",").append(id);
        }
        return b.toString();
    }

    PromptRow withSlug(String newSlug, String newProblem) {
        return new PromptRow(number, text, ids, newSlug, targets, newProblem);
    }
}
