package org.circuittracer.spi.model;

import java.util.Objects;
import org.circuittracer.spi.CircuitTracerException;

/**
 * The dimensions of an opened model (what the reference's graph files record as {@code cfg}).
 *
 * @param modelName            a human name, e.g. the directory name or the Hugging Face id
 * @param architecture         the Hugging Face architecture, e.g. {@code LlamaForCausalLM}
 * @param layers               number of transformer blocks {@code L}
 * @param modelWidth           residual width {@code d}
 * @param heads                attention (query) heads {@code H}
 * @param keyValueHeads        key/value heads (equal to {@code heads} without grouped-query attention)
 * @param headWidth            width of one head
 * @param mlpWidth             hidden width of the MLP
 * @param vocabularySize       number of logits {@code V}
 * @param maxPositions         longest supported sequence
 */
public record ModelConfig(String modelName, String architecture, int layers, int modelWidth, int heads,
                          int keyValueHeads, int headWidth, int mlpWidth, int vocabularySize, int maxPositions) {

    public ModelConfig {
        Objects.requireNonNull(modelName, "modelName");
        Objects.requireNonNull(architecture, "architecture");
        requirePositive("layers", layers);
        requirePositive("modelWidth", modelWidth);
        requirePositive("heads", heads);
        requirePositive("keyValueHeads", keyValueHeads);
        requirePositive("headWidth", headWidth);
        requirePositive("mlpWidth", mlpWidth);
        requirePositive("vocabularySize", vocabularySize);
        requirePositive("maxPositions", maxPositions);
        if (heads % keyValueHeads != 0) {
            throw CircuitTracerException.invalidArgument("heads (" + heads + ") must be a multiple of keyValueHeads ("
                    + keyValueHeads + ")");
        }
    }

    private static void requirePositive(String field, int value) {
        if (value <= 0) {
            throw CircuitTracerException.invalidArgument(field + " must be positive, got " + value);
        }
    }
}
