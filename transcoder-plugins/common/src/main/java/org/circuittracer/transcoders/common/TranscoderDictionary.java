package org.circuittracer.transcoders.common;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionaryCapability;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.LinearMap;
import org.circuittracer.spi.site.SiteKind;

/**
 * Per-layer or cross-layer transcoders over weights in memory-mapped safetensors files.
 *
 * <p><b>Lazy decoder</b> (the default): decoder rows are gathered from the files only for the requested ids, so
 * decoding a sparse code reads the rows of its active features and the full decoder is never loaded. <b>Eager
 * decoder</b>: every decoder matrix is loaded at open (zero-copy from the mapping for F32 tensors); a decoder over
 * 2 GiB as float32, which no single buffer holds, is gathered from the mapping as a lazy one is.
 *
 * <p><b>Encoders are read in blocks of features</b> where one buffer cannot or should not hold them (see
 * {@code EncoderBlocks}): an F32 encoder of at most 2 GiB is the zero-copy view of its mapped tensor and is
 * multiplied at once, as it always was; any other encoder — F32 over 2 GiB, F16/BF16, or a column block of a wider
 * tensor — is cut into blocks of 32 MiB of float32 rows, {@code h = x·W_encᵀ} is computed block by block and each
 * block's product copied into its columns of {@code h}. So encoders of any size work (2 GiB and more) and no buffer
 * holds a whole encoder. <b>Eager encoder</b> (the default): the blocks are made at open — zero-copy views of the
 * mapping for F32, widened float32 copies of F16/BF16 (one block at a time) in direct memory that stay resident, as a
 * widened eager encoder always did; an F32 encoder whose blocks would be copies (a transposed one over 2 GiB, or a
 * column block of wider rows) is read per call as a lazy one rather than duplicate the mapped file in memory, and the
 * dictionary then reports {@link DictionaryCapability#LAZY_ENCODER}. <b>Lazy encoder</b>: each call reads the layer's
 * blocks one at a time and frees each before the next — like the reference, which re-reads the encoder per call; for
 * F32 those are views of the mapping (no heap, no copy, pages cached by the OS), otherwise copies into one
 * block-sized scratch buffer per call, so no widened encoder stays resident. Either way the Java heap used by opening
 * and encoding does not grow with {@code F·d} (only with {@code F}: biases, thresholds and the {@code [T, F]}
 * results). An encoder stored transposed, {@code W_encᵀ [d, F]} (SAELens, GemmaScope), is multiplied by as stored,
 * its blocks being column blocks; its columns are the encoder rows.
 *
 * <p>Computation happens in a sub-manager of the caller's manager; only results are attached to the caller's manager.
 * Arrays held by the dictionary (eager weights, biases, thresholds, skip matrices) are never modified in place: F32
 * ones alias read-only mappings. Thread-safe for concurrent calls; {@link #close()} must not race with them.
 */
public final class TranscoderDictionary implements SparseDictionary {

    private final Transcoders spec;
    private final boolean lazyDecoder;
    private final Optional<Consumer<Path>> saver;
    private final List<? extends AutoCloseable> files;
    private final NDManager weights;
    private final Nonlinearity[] nonlinearities;
    private final NDArray[] encoderBias;
    private final EncoderBlocks[] encoders;
    /** Per layer the eager encoder's blocks {@code W_encᵀ [d, n]}, or {@code null}: read per call. */
    private final NDArray[][] encoderBlocks;
    private final NDArray[][] decoders;
    private final NDArray[] decoderBias;
    private final List<Optional<LinearMap>> skips;
    private final Set<DictionaryCapability> capabilities;
    private volatile boolean closed;

    private TranscoderDictionary(Transcoders spec, boolean lazyEncoder, boolean lazyDecoder,
                                 Optional<Consumer<Path>> saver, List<? extends AutoCloseable> files,
                                 long encoderBlockBytes, long wholeEncoderBytes) {
        this.spec = spec;
        this.lazyDecoder = lazyDecoder;
        this.saver = saver;
        this.files = List.copyOf(files);
        int layers = spec.layers();
        this.weights = NDManager.newBaseManager();
        this.nonlinearities = new Nonlinearity[layers];
        this.encoderBias = new NDArray[layers];
        this.encoders = new EncoderBlocks[layers];
        this.encoderBlocks = new NDArray[layers][];
        this.decoders = new NDArray[layers][];
        this.decoderBias = new NDArray[layers];
        List<Optional<LinearMap>> skipMaps = new ArrayList<>();
        try {
            for (int layer = 0; layer < layers; layer++) {
                Transcoders.SourceLayer source = spec.sources().get(layer);
                nonlinearities[layer] = nonlinearity(source);
                encoderBias[layer] = weights.create(source.encoderBias().values());
                EncoderBlocks blocks = new EncoderBlocks(source, spec.width(), encoderBlockBytes, wholeEncoderBytes);
                encoders[layer] = blocks;
                if (!lazyEncoder && blocks.keptWhenEager()) { // else read per call, as a lazy one
                    encoderBlocks[layer] = new NDArray[blocks.blocks()];
                    for (int b = 0; b < blocks.blocks(); b++) {
                        encoderBlocks[layer][b] = blocks.transposedBlock(weights, b, null);
                    }
                }
                if (!lazyDecoder) { // null: too large for one buffer, gathered from the mapping
                    decoders[layer] = source.decoders().stream().map(d -> d.fitsOneBuffer() ? d.load(weights) : null)
                            .toArray(NDArray[]::new);
                }
                Transcoders.OutputLayer output = spec.outputs().get(layer);
                decoderBias[layer] = weights.create(output.decoderBias().values());
                skipMaps.add(output.skip().map(s -> (LinearMap) MatrixMap.of(s.weight().load(weights), s.transposed())));
            }
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
        this.skips = List.copyOf(skipMaps);
        boolean gathersDecoders = lazyDecoder || Arrays.stream(decoders).flatMap(Arrays::stream)
                .anyMatch(Objects::isNull);
        boolean readsEncoders = Arrays.stream(encoderBlocks).anyMatch(Objects::isNull);
        this.capabilities = capabilities(spec, readsEncoders, gathersDecoders, saver.isPresent());
    }

    /**
     * Opens a dictionary; it takes ownership of {@code files} and closes them in {@link #close()}.
     *
     * @param saver writes the dictionary in its format (makes it {@link DictionaryCapability#WRITABLE}), if any
     */
    public static TranscoderDictionary open(Transcoders spec, boolean lazyEncoder, boolean lazyDecoder,
                                            Optional<Consumer<Path>> saver, List<? extends AutoCloseable> files) {
        return new TranscoderDictionary(spec, lazyEncoder, lazyDecoder, saver, files,
                EncoderBlocks.DEFAULT_BLOCK_BYTES, Integer.MAX_VALUE);
    }

    /**
     * {@link #open} with encoder blocks of {@code encoderBlockBytes}, also for F32 encoders that one view would hold
     * (for tests).
     */
    static TranscoderDictionary open(Transcoders spec, boolean lazyEncoder, boolean lazyDecoder,
                                     Optional<Consumer<Path>> saver, List<? extends AutoCloseable> files,
                                     long encoderBlockBytes) {
        return new TranscoderDictionary(spec, lazyEncoder, lazyDecoder, saver, files, encoderBlockBytes,
                encoderBlockBytes);
    }

    private Nonlinearity nonlinearity(Transcoders.SourceLayer source) {
        ActivationFunction f = source.activation();
        if (f instanceof ActivationFunction.Relu) {
            return new Nonlinearity.Relu();
        }
        if (f instanceof ActivationFunction.JumpRelu) {
            return new Nonlinearity.JumpRelu(weights.create(source.thresholds().orElseThrow().values()));
        }
        if (f instanceof ActivationFunction.TopK topK) {
            return new Nonlinearity.TopK(topK.k());
        }
        OptionalInt reluTopK = Nonlinearity.ReluTopK.of(f);
        if (reluTopK.isPresent()) {
            return new Nonlinearity.ReluTopK(reluTopK.getAsInt());
        }
        throw new IllegalArgumentException("transcoders compute ReLU, JumpReLU, TopK or ReLU after TopK, not " + f);
    }

    private static Set<DictionaryCapability> capabilities(Transcoders spec, boolean lazyEncoder, boolean lazyDecoder,
                                                          boolean writable) {
        Set<DictionaryCapability> set = EnumSet.noneOf(DictionaryCapability.class);
        if (lazyEncoder) {
            set.add(DictionaryCapability.LAZY_ENCODER);
        }
        if (lazyDecoder) {
            set.add(DictionaryCapability.LAZY_DECODER);
        }
        if (spec.sources().stream().anyMatch(s -> s.decoders().size() > 1)) {
            set.add(DictionaryCapability.CROSS_LAYER);
        }
        if (spec.outputs().stream().anyMatch(o -> o.skip().isPresent())) {
            set.add(DictionaryCapability.SKIP_CONNECTION);
        }
        if (writable) {
            set.add(DictionaryCapability.WRITABLE);
        }
        return Collections.unmodifiableSet(set);
    }

    // ------------------------------------------------------------------------------------------------ description

    @Override
    public String formatName() {
        return spec.formatName();
    }

    @Override
    public String scan() {
        return spec.scan();
    }

    @Override
    public int layers() {
        return spec.layers();
    }

    @Override
    public int width() {
        return spec.width();
    }

    @Override
    public int features(int layer) {
        return source(layer).features();
    }

    @Override
    public SiteKind readSite() {
        return spec.readSite();
    }

    @Override
    public SiteKind writeSite() {
        return spec.writeSite();
    }

    @Override
    public int[] outputLayers(int sourceLayer) {
        return IntStream.range(sourceLayer, sourceLayer + source(sourceLayer).decoders().size()).toArray();
    }

    @Override
    public ActivationFunction activation(int layer) {
        return source(layer).activation();
    }

    @Override
    public Set<DictionaryCapability> capabilities() {
        return capabilities;
    }

    // ------------------------------------------------------------------------------------------------ encoding

    @Override
    public NDArray preActivations(NDManager manager, int layer, NDArray input) {
        source(layer);
        try (NDManager scope = manager.newSubManager()) {
            return keep(preActivationsIn(scope, layer, input), manager);
        }
    }

    @Override
    public NDArray encode(NDManager manager, int layer, NDArray input, Set<Integer> zeroedPositions) {
        source(layer);
        try (NDManager scope = manager.newSubManager()) {
            return keep(encodeIn(scope, layer, input, zeroedPositions), manager);
        }
    }

    @Override
    public SparseActivations encodeSparse(NDManager manager, int layer, NDArray input, Set<Integer> zeroedPositions) {
        source(layer);
        try (NDManager scope = manager.newSubManager()) {
            NDArray activations = encodeIn(scope, layer, input, zeroedPositions);
            NDArray active = activations.neq(0f);
            // nonzero() and booleanMask() both walk [T, F] row-major: entries come sorted by (position, feature).
            long[] coordinates = active.nonzero().toLongArray();
            float[] values = activations.booleanMask(active).toFloatArray();
            int[] positions = new int[values.length];
            int[] features = new int[values.length];
            for (int i = 0; i < values.length; i++) {
                positions[i] = (int) coordinates[2 * i];
                features[i] = (int) coordinates[2 * i + 1];
            }
            int length = Math.toIntExact(activations.getShape().get(0));
            return new SparseActivations(layer, length, positions, features, values);
        }
    }

    /** {@code h = x·W_encᵀ + b_enc}, {@code [T, F]}, in {@code scope}, the encoder read block by block. */
    private NDArray preActivationsIn(NDManager scope, int layer, NDArray input) {
        NDArray x = Inputs.copyIn(scope, input, spec.width(), "The input of layer " + layer);
        return encoders[layer].multiply(x, encoderBlocks[layer]).addi(encoderBias[layer]);
    }

    /** {@code σ(h)} with the rows of {@code zeroedPositions} (those below T) set to 0 after the nonlinearity. */
    private NDArray encodeIn(NDManager scope, int layer, NDArray input, Set<Integer> zeroedPositions) {
        Inputs.checkPositions(zeroedPositions);
        NDArray activations = nonlinearities[layer].apply(preActivationsIn(scope, layer, input));
        long length = activations.getShape().get(0);
        for (int position : zeroedPositions) {
            if (position < length) {
                activations.set(new NDIndex(position), 0f);
            }
        }
        return activations;
    }

    // ------------------------------------------------------------------------------------------------ decoding

    /**
     * {@inheritDoc}
     *
     * <p>Per source layer, gathers the decoder rows of its distinct active features {@code R [n, d]} and adds
     * {@code C·R} with the coefficients {@code C [T, n]}; nothing of size {@code F × d} is read or allocated.
     *
     * @param activations exactly one entry per source layer that writes to {@code outputLayer}, any order
     * @param outputInput {@code [T, d]}; may be {@code null} when the layer has no skip connection
     */
    @Override
    public NDArray decode(NDManager manager, int outputLayer, List<SparseActivations> activations,
                          NDArray outputInput) {
        int length = Inputs.checkDecodeArguments(this, outputLayer, activations, outputInput);
        try (NDManager scope = manager.newSubManager()) {
            NDArray reconstruction = scope.zeros(new Shape(length, spec.width()), DataType.FLOAT32);
            for (SparseActivations code : activations) {
                if (code.size() == 0) {
                    continue;
                }
                int[] ids = Arrays.stream(code.features()).distinct().sorted().toArray();
                float[] coefficients = new float[length * ids.length];
                for (int entry = 0; entry < code.size(); entry++) {
                    int column = Arrays.binarySearch(ids, code.featureAt(entry));
                    coefficients[code.positionAt(entry) * ids.length + column] = code.valueAt(entry);
                }
                NDArray rows = decoderRowsIn(scope, code.layer(), ids, outputLayer);
                reconstruction.addi(scope.create(coefficients, new Shape(length, ids.length)).matMul(rows));
            }
            reconstruction.addi(decoderBias[outputLayer]);
            Optional<LinearMap> skip = skips.get(outputLayer);
            if (skip.isPresent()) {
                NDArray x = Inputs.copyIn(scope, outputInput, spec.width(), "The input of output layer " + outputLayer);
                reconstruction.addi(skip.get().apply(x));
            }
            return keep(reconstruction, manager);
        }
    }

    @Override
    public NDArray decoderRows(NDManager manager, int sourceLayer, int[] features, int outputLayer) {
        Inputs.checkWrites(this, sourceLayer, outputLayer);
        Inputs.checkFeatures(this, sourceLayer, features);
        try (NDManager scope = manager.newSubManager()) {
            return keep(decoderRowsIn(scope, sourceLayer, features, outputLayer), manager);
        }
    }

    /** {@code [n, d]} in {@code scope}. */
    private NDArray decoderRowsIn(NDManager scope, int sourceLayer, int[] ids, int outputLayer) {
        int k = outputLayer - sourceLayer;
        return lazyDecoder || decoders[sourceLayer][k] == null
                ? source(sourceLayer).decoders().get(k).gather(scope, ids)
                : rowsOf(scope, decoders[sourceLayer][k], ids);
    }

    @Override
    public NDArray encoderRows(NDManager manager, int layer, int[] features) {
        Inputs.checkFeatures(this, layer, features);
        source(layer);
        try (NDManager scope = manager.newSubManager()) {
            return keep(encoders[layer].rows(scope, encoderBlocks[layer], features), manager);
        }
    }

    @Override
    public NDArray encoderBias(NDManager manager, int layer, int[] features) {
        Inputs.checkFeatures(this, layer, features);
        float[] all = source(layer).encoderBias().values();
        float[] picked = new float[features.length];
        for (int i = 0; i < features.length; i++) {
            picked[i] = all[features[i]];
        }
        return manager.create(picked);
    }

    @Override
    public NDArray decoderBias(NDManager manager, int outputLayer) {
        Inputs.checkLayer(this, outputLayer);
        return manager.create(spec.outputs().get(outputLayer).decoderBias().values());
    }

    @Override
    public Optional<LinearMap> skip(int outputLayer) {
        Inputs.checkLayer(this, outputLayer);
        checkOpen();
        return skips.get(outputLayer);
    }

    /**
     * The JumpReLU thresholds {@code θ [F]} of a layer (a copy), for writers and converters; empty for other
     * activation functions.
     */
    public Optional<float[]> thresholds(int layer) {
        return source(layer).thresholds().map(t -> t.values().clone());
    }

    // ------------------------------------------------------------------------------------------------ lifecycle

    @Override
    public void save(Path directory) {
        checkOpen();
        saver.ifPresentOrElse(s -> s.accept(directory), () -> SparseDictionary.super.save(directory));
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        weights.close();
        RuntimeException failure = null;
        for (AutoCloseable file : files) {
            try {
                file.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "TranscoderDictionary[" + formatName() + ", " + layers() + " layers, d=" + width() + ", " + capabilities
                + "]";
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private Transcoders.SourceLayer source(int layer) {
        Inputs.checkLayer(this, layer);
        checkOpen();
        return spec.sources().get(layer);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("The dictionary " + this + " is closed.");
        }
    }

    /** Rows {@code ids} of a loaded matrix, as a new array in {@code scope}. */
    private static NDArray rowsOf(NDManager scope, NDArray matrix, int[] ids) {
        NDArray index = scope.create(Arrays.stream(ids).asLongStream().toArray());
        NDArray rows = matrix.get(index);
        rows.attach(scope); // created in the weights' manager, which must not collect per-call results
        return rows;
    }

    private static NDArray keep(NDArray result, NDManager manager) {
        result.attach(manager);
        return result;
    }
}
