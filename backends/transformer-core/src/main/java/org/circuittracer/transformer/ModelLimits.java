package org.circuittracer.transformer;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;

/** The input checks of a forward pass and of the unembedding, with one wording for every backend. */
public final class ModelLimits {

    private ModelLimits() {
    }

    /**
     * @param model names the model in messages, e.g. {@code LlamaForCausalLM 'llama' (4 layers)}
     * @throws CircuitTracerException INVALID_ARGUMENT for ids outside the vocabulary or more tokens than positions
     */
    public static void requireFits(TokenSequence tokens, ModelConfig config, String model) {
        tokens.requireInVocabulary(config.vocabularySize());
        if (tokens.length() > config.maxPositions()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The prompt has " + tokens.length()
                    + " tokens, more than the " + config.maxPositions() + " positions " + model + " supports. "
                    + "Shorten it.");
        }
    }

    /**
     * @param refused token ids the model cannot take in a prompt, with what each is and what to do instead
     * @throws CircuitTracerException INVALID_ARGUMENT naming the first refused token and its position
     */
    public static void requireNoRefusedTokens(TokenSequence tokens, java.util.Map<Integer, String> refused,
                                              String model) {
        if (refused.isEmpty()) {
            return;
        }
        int[] ids = tokens.ids();
        for (int position = 0; position < ids.length; position++) {
            String why = refused.get(ids[position]);
            if (why != null) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The prompt holds token id "
                        + ids[position] + " at position " + position + ": for " + model + " that is " + why + ".");
            }
        }
    }

    /** @throws CircuitTracerException INVALID_ARGUMENT for an id outside {@code [0, vocabulary)} */
    public static void requireTokenIds(int[] tokenIds, int vocabulary, String model) {
        for (int id : tokenIds) {
            if (id < 0 || id >= vocabulary) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Token id " + id
                        + " is outside the vocabulary [0, " + vocabulary + ") of " + model + ".");
            }
        }
    }
}
