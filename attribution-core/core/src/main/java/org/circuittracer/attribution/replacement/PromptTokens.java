package org.circuittracer.attribution.replacement;

import java.util.Arrays;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.Tokenizer;

/**
 * The special-token rule of attribution (docs/reference/algorithm.md §2.6) and the zeroed positions {@code Z} it implies.
 *
 * <ol>
 *   <li>Gemma-3 instruction-tuned models (name contains {@code gemma-3}, ends with {@code -it}): the prompt must start
 *       with {@code <bos><start_of_turn>user\n} = {@code [2, 105, 2364, 107]}; nothing is prepended;
 *       {@code Z = {0, 1, 2, 3}}.</li>
 *   <li>Otherwise, a prompt whose first token is one of the tokenizer's special ids is used as it is.</li>
 *   <li>Otherwise the first <em>existing</em> id among BOS, PAD, EOS and the remaining special ids (ascending) is
 *       prepended. {@code Z = {0}}.</li>
 * </ol>
 *
 * <p><b>Deliberate difference from the reference</b>: the reference takes the first <em>truthy</em> candidate, so a
 * special token with id 0 is never chosen (GPT-2-style tiny tokenizers with BOS = 0 then fall through to EOS, or fail
 * when no other candidate exists). Id 0 is a valid token id, so here "existing" means id ≥ 0 (the {@link Tokenizer}
 * reports absent tokens as −1). On real checkpoints (BOS ids 2, 50256, 128000, ...) both rules agree. When no special
 * token exists at all, the reference fails by accident; this fails on purpose, with a message.
 */
public final class PromptTokens {

    /** The prefix every Gemma-3 instruction-tuned prompt starts with. */
    static final int[] GEMMA3_IT_PREFIX = {2, 105, 2364, 107};

    private PromptTokens() {
    }

    /** Applies the rule to already tokenised ids: returns {@code tokens}, or them after one prepended special token. */
    public static TokenSequence prepare(TokenSequence tokens, Tokenizer tokenizer, String modelName) {
        if (isGemma3InstructionTuned(modelName)) {
            int[] ids = tokens.ids();
            if (ids.length < GEMMA3_IT_PREFIX.length
                    || !Arrays.equals(Arrays.copyOf(ids, GEMMA3_IT_PREFIX.length), GEMMA3_IT_PREFIX)) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Prompts for the instruction-tuned "
                        + "Gemma-3 model '" + modelName + "' must start with <bos><start_of_turn>user\\n (token ids "
                        + Arrays.toString(GEMMA3_IT_PREFIX) + "); apply the chat template first.");
            }
            return tokens;
        }
        if (tokenizer.specialTokenIds().contains(tokens.get(0))) {
            return tokens;
        }
        int[] ids = tokens.ids();
        int[] prepended = new int[ids.length + 1];
        prepended[0] = prependedToken(tokenizer);
        System.arraycopy(ids, 0, prepended, 1, ids.length);
        return new TokenSequence(prepended);
    }

    /** Tokenises {@code text} without special tokens and applies {@link #prepare}. */
    public static TokenSequence tokenize(String text, Tokenizer tokenizer, String modelName) {
        int[] ids = tokenizer.encode(text, false);
        if (ids.length == 0) {
            if (isGemma3InstructionTuned(modelName)) {
                return prepare(TokenSequence.of(GEMMA3_IT_PREFIX[0]), tokenizer, modelName); // fails with the message
            }
            return TokenSequence.of(prependedToken(tokenizer));
        }
        return prepare(new TokenSequence(ids), tokenizer, modelName);
    }

    /**
     * The special token prepended to prompts that do not start with one: the first of BOS, PAD, EOS that the tokenizer
     * has, else the lowest of its other special ids.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT when the tokenizer has no special token at all
     */
    public static int prependedToken(Tokenizer tokenizer) {
        IntStream named = Stream.of(tokenizer.bosTokenId(), tokenizer.padTokenId(), tokenizer.eosTokenId())
                .flatMapToInt(OptionalInt::stream);
        IntStream others = new TreeSet<>(tokenizer.specialTokenIds()).stream().mapToInt(Integer::intValue);
        return IntStream.concat(named, others).filter(id -> id >= 0).findFirst().orElseThrow(() ->
                new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The tokenizer has no special token "
                        + "(BOS, PAD, EOS or other) to start the prompt with, and attribution treats position 0 as an "
                        + "attention sink without features. Give token ids whose first token is such a sink."));
    }

    /**
     * The positions whose features and errors are zeroed: {@code {0}}, or {@code {0, 1, 2, 3}} for instruction-tuned
     * Gemma-3 models. Position 0 is treated this way whatever its token (as in the reference); {@link #prepare} makes it
     * a special token.
     */
    public static Set<Integer> zeroedPositions(String modelName) {
        return isGemma3InstructionTuned(modelName) ? Set.of(0, 1, 2, 3) : Set.of(0);
    }

    static boolean isGemma3InstructionTuned(String modelName) {
        String name = modelName.toLowerCase(Locale.ROOT);
        return name.contains("gemma-3") && name.endsWith("-it");
    }
}
