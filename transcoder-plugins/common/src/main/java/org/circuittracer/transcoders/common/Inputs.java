package org.circuittracer.transcoders.common;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;

/**
 * Argument checks of the {@link SparseDictionary} methods, for {@link TranscoderDictionary} and for plugins with a
 * dictionary of their own: each failure is an INVALID_ARGUMENT saying what is allowed, in the same words for every
 * format.
 */
public final class Inputs {

    private Inputs() {
    }

    /**
     * A float32 copy of {@code input [T, d]} owned by {@code scope}, so that every array computed from it lands in
     * {@code scope} (DJL puts results in the first operand's manager) and the caller's array is never touched.
     */
    public static NDArray copyIn(NDManager scope, NDArray input, int width, String what) {
        if (input == null) {
            throw invalid(what + " is missing; pass the read-site value [T, " + width + "].");
        }
        long[] shape = input.getShape().getShape();
        if (shape.length != 2 || shape[1] != width || !input.getDataType().isFloating()) {
            throw invalid(what + " is " + input.getDataType() + " " + input.getShape() + "; expected a floating-point [T, "
                    + width + "] array (T positions × the dictionary width " + width + ").");
        }
        NDArray copy = input.getDataType() == DataType.FLOAT32 ? input.duplicate() : input.toType(DataType.FLOAT32, true);
        copy.attach(scope);
        return copy;
    }

    public static void checkPositions(Set<Integer> zeroedPositions) {
        for (int position : zeroedPositions) {
            if (position < 0) {
                throw invalid("Zeroed position " + position + " is negative; positions count from 0.");
            }
        }
    }

    public static void checkLayer(SparseDictionary dictionary, int layer) {
        if (layer < 0 || layer >= dictionary.layers()) {
            throw invalid("Layer " + layer + " is out of range: the dictionary has layers 0.." + (dictionary.layers() - 1)
                    + ".");
        }
    }

    public static void checkFeatures(SparseDictionary dictionary, int layer, int[] features) {
        checkLayer(dictionary, layer);
        int count = dictionary.features(layer);
        for (int feature : features) {
            if (feature < 0 || feature >= count) {
                throw invalid("Feature " + feature + " of layer " + layer + " is out of range: the layer has " + count
                        + " features (0.." + (count - 1) + ").");
            }
        }
    }

    public static void checkWrites(SparseDictionary dictionary, int sourceLayer, int outputLayer) {
        checkLayer(dictionary, sourceLayer);
        checkLayer(dictionary, outputLayer);
        int[] outputs = dictionary.outputLayers(sourceLayer);
        if (Arrays.binarySearch(outputs, outputLayer) < 0) {
            throw invalid("Features of layer " + sourceLayer + " do not write to layer " + outputLayer + "; they write to "
                    + Arrays.toString(outputs) + ".");
        }
    }

    /** Checks a decode request and returns the sequence length T. */
    public static int checkDecodeArguments(SparseDictionary dictionary, int outputLayer, List<SparseActivations> activations,
                                    NDArray outputInput) {
        checkLayer(dictionary, outputLayer);
        Set<Integer> writers = IntStream.range(0, outputLayer + 1)
                .filter(l -> Arrays.binarySearch(dictionary.outputLayers(l), outputLayer) >= 0)
                .boxed().collect(Collectors.toCollection(TreeSet::new));
        Set<Integer> given = new TreeSet<>();
        for (SparseActivations code : activations) {
            checkWrites(dictionary, code.layer(), outputLayer);
            if (!given.add(code.layer())) {
                throw invalid("The activations of layer " + code.layer() + " are given twice for output layer "
                        + outputLayer + ".");
            }
            checkFeatures(dictionary, code.layer(), code.features());
        }
        if (!given.equals(writers)) {
            throw invalid("Decoding output layer " + outputLayer + " needs the activations of layers " + writers
                    + " (every layer that writes to it; pass empty ones where nothing is active), got " + given + ".");
        }
        int length = activations.get(0).length();
        for (SparseActivations code : activations) {
            if (code.length() != length) {
                throw invalid("The activations of layer " + code.layer() + " cover " + code.length() + " positions, "
                        + "those of layer " + activations.get(0).layer() + " " + length + "; all must have one length.");
            }
        }
        boolean hasSkip = dictionary.skip(outputLayer).isPresent();
        if (outputInput != null && outputInput.getShape().dimension() > 0 && outputInput.getShape().get(0) != length) {
            throw invalid("The input of output layer " + outputLayer + " has " + outputInput.getShape().get(0)
                    + " positions but the activations have " + length + ".");
        }
        if (hasSkip && outputInput == null) {
            throw invalid("Output layer " + outputLayer + " has a skip connection: pass its read-site value [T, d] as "
                    + "outputInput.");
        }
        return length;
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }
}
