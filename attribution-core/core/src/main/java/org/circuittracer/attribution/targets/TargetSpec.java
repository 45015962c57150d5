package org.circuittracer.attribution.targets;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.model.TransformerModel;

/**
 * Attribution targets written as text, as {@code attribute --target} and the viewer's New graph form take them:
 * tokens ({@code Austin}, or {@code #1234} for a token id) or logit
 * differences {@code A-B} (the custom direction {@code u_A − u_B} of the two tokens' unembedding vectors, so the graph
 * explains why A beats B). A value with a hyphen is a difference when both sides are single tokens, else one token.
 * Tokens and differences cannot be mixed.
 */
public final class TargetSpec {

    private TargetSpec() {
    }

    /** {@link #resolve(List, TransformerModel, String)} with messages naming {@code --target}. */
    public static AttributionTargets resolve(List<String> values, TransformerModel model) {
        return resolve(values, model, "--target");
    }

    /**
     * The targets for {@code values} (non-empty), resolved with the model's tokenizer and unembedding.
     *
     * @param what how error messages name the values (an option name, a form field)
     * @throws CircuitTracerException INVALID_ARGUMENT for a value that is neither one token nor a difference of two
     */
    public static AttributionTargets resolve(List<String> values, TransformerModel model, String what) {
        Parsed parsed = parse(values, model, what);
        if (parsed.differences().isEmpty()) {
            return new AttributionTargets.TokenIds(parsed.tokens());
        }
        return logitDifferences(parsed.differences(), model, what);
    }

    /**
     * Checks {@code values} as {@link #resolve(List, TransformerModel, String)} would, with the tokenizer only (no
     * model computation), so a form or request can be refused before any work is queued.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT with resolve's message for a value it would refuse
     */
    public static void check(List<String> values, TransformerModel model, String what) {
        parse(values, model, what);
    }

    private record Parsed(List<Integer> tokens, List<String[]> differences) {
    }

    private static Parsed parse(List<String> values, TransformerModel model, String what) {
        List<Integer> tokens = new ArrayList<>();
        List<String[]> differences = new ArrayList<>();
        for (String value : values) {
            String[] pair = value.matches("#\\d+") ? null : difference(value, model, what);
            if (pair != null) {
                differences.add(pair);
                continue;
            }
            Integer single = singleToken(value, model, what);
            if (single == null) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, what + " '" + value + "' is "
                        + "neither one token of the model's vocabulary (" + describe(value, model) + ") nor a logit "
                        + "difference A-B of two such tokens. Give one token (e.g. Austin, or #1234 for an id) or A-B.");
            }
            tokens.add(single);
        }
        if (!tokens.isEmpty() && !differences.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, what + " mixes tokens and logit "
                    + "differences; give either tokens (explained by their probabilities) or differences A-B.");
        }
        return new Parsed(tokens, differences);
    }

    private static AttributionTargets logitDifferences(List<String[]> pairs, TransformerModel model,
                                                        String what) {
        int[] ids = new int[pairs.size() * 2];
        for (int i = 0; i < pairs.size(); i++) {
            ids[2 * i] = singleToken(pairs.get(i)[0], model, what);
            ids[2 * i + 1] = singleToken(pairs.get(i)[1], model, what);
        }
        List<AttributionTargets.CustomTarget> targets = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray vectors = model.unembeddingVectors(manager, ids);
            int d = model.config().modelWidth();
            float[] flat = vectors.toFloatArray();
            for (int i = 0; i < pairs.size(); i++) {
                float[] direction = new float[d];
                for (int k = 0; k < d; k++) {
                    direction[k] = flat[2 * i * d + k] - flat[(2 * i + 1) * d + k];
                }
                String label = model.tokenizer().tokenText(ids[2 * i]) + " − "
                        + model.tokenizer().tokenText(ids[2 * i + 1]);
                targets.add(new AttributionTargets.CustomTarget(label, 1f / pairs.size(), direction));
            }
        }
        return new AttributionTargets.Custom(targets);
    }

    /** The token id of a value that is one token ({@code #id} or text encoding to one token), else null. */
    private static Integer singleToken(String value, TransformerModel model, String what) {
        if (value.matches("#\\d+")) {
            int id = Integer.parseInt(value.substring(1));
            if (id >= model.config().vocabularySize()) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, what + " " + value + " is outside "
                        + "the model's vocabulary [0, " + model.config().vocabularySize() + ").");
            }
            return id;
        }
        if (value.isEmpty()) {
            return null;
        }
        int[] encoded = model.tokenizer().encode(value, false);
        return encoded.length == 1 ? encoded[0] : null;
    }

    /** The first split {@code A-B} at a hyphen where both sides are single tokens, else null. */
    private static String[] difference(String value, TransformerModel model, String what) {
        for (int i = value.indexOf('-'); i > 0; i = value.indexOf('-', i + 1)) {
            String a = value.substring(0, i);
            String b = value.substring(i + 1);
            if (!b.isEmpty() && singleToken(a, model, what) != null && singleToken(b, model, what) != null) {
                return new String[] {a, b};
            }
        }
        return null;
    }

    private static String describe(String value, TransformerModel model) {
        int[] encoded = model.tokenizer().encode(value, false);
        return encoded.length == 0 ? "it encodes to no token" : "it encodes to " + encoded.length + " tokens "
                + Arrays.toString(encoded);
    }
}
