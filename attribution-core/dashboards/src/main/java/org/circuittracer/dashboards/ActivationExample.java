package org.circuittracer.dashboards;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One example context of a feature (docs/reference/graph-format.md §4.1, {@code examples[]}): a window of the corpus around a token
 * of interest, with the feature's activation at every token of the window.
 *
 * @param tokens              the decoded tokens of the window, one string per token (§4.2)
 * @param activations         the feature's activation at each token; same length as {@code tokens}
 * @param tokenIndex          {@code train_token_ind}: the token of interest within the window (the peak)
 * @param repeated            {@code is_repeated_datapoint}: the same corpus sequence is shown by an earlier example
 */
public record ActivationExample(List<String> tokens, float[] activations, int tokenIndex, boolean repeated) {

    public ActivationExample {
        tokens = List.copyOf(tokens);
        activations = Objects.requireNonNull(activations, "activations").clone();
        if (activations.length != tokens.size()) {
            throw new IllegalArgumentException("tokens (" + tokens.size() + ") and activations (" + activations.length
                    + ") must have equal lengths");
        }
        if (tokens.isEmpty() ? tokenIndex != 0 : tokenIndex < 0 || tokenIndex >= tokens.size()) {
            throw new IllegalArgumentException("tokenIndex " + tokenIndex + " outside the window of " + tokens.size()
                    + " tokens");
        }
    }

    @Override
    public float[] activations() {
        return activations.clone();
    }

    /** The activation at the token of interest. */
    public float peak() {
        return activations.length == 0 ? 0f : activations[tokenIndex];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ActivationExample that && tokenIndex == that.tokenIndex && repeated == that.repeated
                && tokens.equals(that.tokens) && Arrays.equals(activations, that.activations);
    }

    @Override
    public int hashCode() {
        return Objects.hash(tokens, Arrays.hashCode(activations), tokenIndex, repeated);
    }

    @Override
    public String toString() {
        return "ActivationExample[" + String.join("|", tokens) + ", peak " + peak() + " at " + tokenIndex
                + (repeated ? ", repeated" : "") + "]";
    }
}
