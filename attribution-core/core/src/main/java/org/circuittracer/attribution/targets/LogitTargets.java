package org.circuittracer.attribution.targets;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.circuittracer.spi.Capability;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.TransformerModel;

/**
 * Builds attribution targets (docs/reference/algorithm.md §3.7). Token targets are weighted by their probability under the model's
 * real last-position logits (soft-capped where the model soft-caps) and point along the demeaned unembedding vector
 * {@code U[:, id] − mean_j U[:, j]}, so their rows attribute the demeaned <em>pre</em>-soft-cap logit. Custom targets are
 * used verbatim with virtual indices {@code V + i}.
 */
public final class LogitTargets {

    private LogitTargets() {
    }

    /** Whether building {@code spec} needs the model's unembedding ({@link BackendCapability#UNEMBEDDING}). */
    public static boolean needsUnembedding(AttributionTargets spec) {
        return !(spec instanceof AttributionTargets.Custom);
    }

    /**
     * The targets of {@code spec} for a prompt whose real last-position logits are {@code lastLogits}.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT for token ids outside the vocabulary, strings that are not exactly
     *         one token, or custom directions of the wrong width; MISSING_CAPABILITY when token targets need an
     *         unembedding the backend cannot give
     */
    public static List<LogitTarget> build(AttributionTargets spec, float[] lastLogits, TransformerModel model,
                                          NDManager manager) {
        int vocabulary = model.config().vocabularySize();
        if (lastLogits.length != vocabulary) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "The model returned " + lastLogits.length
                    + " logits but declares a vocabulary of " + vocabulary + ".");
        }
        if (spec instanceof AttributionTargets.Custom custom) {
            return custom(custom, model.config().modelWidth(), vocabulary);
        }
        Capability.require("backend", model.backendName(), model.capabilities(), BackendCapability.UNEMBEDDING,
                "logit attribution targets (use custom targets otherwise)");
        double[] probabilities = softmax(lastLogits);
        int[] ids;
        List<String> labels = null;
        if (spec instanceof AttributionTargets.Salient salient) {
            ids = salient(probabilities, salient.maxLogits(), salient.desiredProbability());
        } else if (spec instanceof AttributionTargets.TokenIds tokenIds) {
            ids = tokenIds.ids().stream().mapToInt(Integer::intValue).toArray();
            checkInVocabulary(ids, vocabulary);
        } else if (spec instanceof AttributionTargets.TokenStrings strings) {
            ids = encodeSingleTokens(strings.tokens(), model);
            labels = strings.tokens();
        } else {
            throw new IllegalArgumentException("unknown target form " + spec);
        }
        float[][] directions = demeanedUnembedding(model, manager, ids);
        List<LogitTarget> targets = new ArrayList<>(ids.length);
        for (int i = 0; i < ids.length; i++) {
            String label = labels != null ? labels.get(i) : model.tokenizer().tokenText(ids[i]);
            targets.add(new LogitTarget(label, ids[i], (float) probabilities[ids[i]], directions[i]));
        }
        return targets;
    }

    /**
     * Salient selection: the {@code maxLogits} most probable ids (descending probability; ties by ascending id, a
     * deterministic choice where the reference's top-k leaves the order open), cut after the first whose cumulative
     * probability reaches {@code desiredProbability}.
     */
    public static int[] salient(double[] probabilities, int maxLogits, double desiredProbability) {
        int[] top = IntStream.range(0, probabilities.length).boxed()
                .sorted((a, b) -> Double.compare(probabilities[b], probabilities[a]))
                .limit(maxLogits).mapToInt(Integer::intValue).toArray();
        double cumulative = 0;
        for (int j = 0; j < top.length; j++) {
            cumulative += probabilities[top[j]];
            if (cumulative >= desiredProbability) {
                return Arrays.copyOf(top, j + 1);
            }
        }
        return top;
    }

    /** {@code softmax(logits)} in double precision. */
    public static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    private static void checkInVocabulary(int[] ids, int vocabulary) {
        List<Integer> offenders = Arrays.stream(ids).filter(id -> id < 0 || id >= vocabulary).boxed().toList();
        if (!offenders.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Target token id"
                    + (offenders.size() == 1 ? " " : "s ") + offenders.stream().map(String::valueOf)
                    .collect(Collectors.joining(", ")) + (offenders.size() == 1 ? " is" : " are")
                    + " outside the model's vocabulary [0, " + vocabulary + ").");
        }
    }

    private static int[] encodeSingleTokens(List<String> strings, TransformerModel model) {
        int[] ids = new int[strings.size()];
        for (int i = 0; i < ids.length; i++) {
            String s = strings.get(i);
            int[] encoded = model.tokenizer().encode(s, false);
            if (encoded.length != 1) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Target token '" + s + "' "
                        + (encoded.length == 0 ? "encodes to no token" : "encodes to " + encoded.length + " tokens "
                        + Arrays.toString(encoded)) + "; each target string must be exactly one token (give token ids "
                        + "or a custom target otherwise).");
            }
            ids[i] = encoded[0];
        }
        checkInVocabulary(ids, model.config().vocabularySize());
        return ids;
    }

    private static float[][] demeanedUnembedding(TransformerModel model, NDManager manager, int[] ids) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray vectors = model.unembeddingVectors(scope, ids);
            NDArray mean = model.meanUnembeddingVector(scope);
            int d = model.config().modelWidth();
            if (vectors.getShape().dimension() != 2 || vectors.getShape().get(0) != ids.length
                    || vectors.getShape().get(1) != d || mean.getShape().size() != d) {
                throw new CircuitTracerException(StandardErrorCode.PLUGIN_FAILURE, "Backend '" + model.backendName()
                        + "' returned unembedding vectors of shape " + vectors.getShape() + " and a mean of shape "
                        + mean.getShape() + " for " + ids.length + " ids; expected [" + ids.length + ", " + d + "] and ["
                        + d + "].");
            }
            float[] flat = vectors.sub(mean.reshape(1, d)).toFloatArray();
            float[][] rows = new float[ids.length][];
            for (int i = 0; i < ids.length; i++) {
                rows[i] = Arrays.copyOfRange(flat, i * d, (i + 1) * d);
            }
            return rows;
        }
    }

    private static List<LogitTarget> custom(AttributionTargets.Custom custom, int width, int vocabulary) {
        List<LogitTarget> targets = new ArrayList<>();
        for (int i = 0; i < custom.targets().size(); i++) {
            AttributionTargets.CustomTarget target = custom.targets().get(i);
            float[] direction = target.direction();
            if (direction.length != width) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Custom target '" + target.label()
                        + "' has a direction of length " + direction.length + "; the model's residual width is "
                        + width + ".");
            }
            for (float v : direction) {
                if (!Float.isFinite(v)) {
                    throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Custom target '"
                            + target.label() + "' has a non-finite direction entry.");
                }
            }
            targets.add(new LogitTarget(target.label(), vocabulary + i, target.weight(), direction));
        }
        return targets;
    }
}
