package org.circuittracer.transcoders.mp;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.safetensors.TensorInfo;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionaryCapability;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.LinearMap;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.common.Inputs;
import org.circuittracer.transcoders.common.RowMatrix;
import org.circuittracer.transcoders.common.Transcoders;

/**
 * A per-layer matching-pursuit transcoder set read from memory-mapped safetensors files. Decoder rows are gathered
 * lazily unless asked otherwise; the atoms are needed whole by every encoding and are mapped zero-copy (F32) or
 * widened once.
 */
final class MatchingPursuitDictionary implements SparseDictionary {

    static final String ATOMS = "atoms";
    static final String DECODER = "W_dec";
    static final String INPUT_BIAS = "b_pre";
    static final String OUTPUT_BIAS = "b_dec";
    private static final ActivationFunction PURSUIT = new ActivationFunction.Other("matching-pursuit");

    private record Layer(SafetensorsFile file, RowMatrix atoms, RowMatrix decoder, float[] inputBias,
                         float[] outputBias) {
    }

    private final Path directory;
    private final MatchingPursuitManifest manifest;
    private final List<Layer> layers;
    private final NDManager weights;
    private final List<NDArray> eagerAtoms;
    private final List<NDArray> eagerDecoders; // null entries when the decoder is lazy
    private final Set<DictionaryCapability> capabilities;
    private volatile boolean closed;

    MatchingPursuitDictionary(Path directory, MatchingPursuitManifest manifest, boolean lazyEncoder,
                              boolean lazyDecoder, NDManager weights) {
        this.directory = directory;
        this.manifest = manifest;
        this.weights = weights;
        this.layers = new ArrayList<>();
        this.eagerAtoms = new ArrayList<>();
        this.eagerDecoders = new ArrayList<>();
        try {
            for (int layer = 0; layer < manifest.layers(); layer++) {
                Layer l = openLayer(layer);
                layers.add(l);
                eagerAtoms.add(lazyEncoder ? null : l.atoms().load(weights));
                eagerDecoders.add(lazyDecoder ? null : l.decoder().load(weights));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        EnumSet<DictionaryCapability> caps = EnumSet.of(DictionaryCapability.WRITABLE);
        if (lazyEncoder) {
            caps.add(DictionaryCapability.LAZY_ENCODER);
        }
        if (lazyDecoder) {
            caps.add(DictionaryCapability.LAZY_DECODER);
        }
        this.capabilities = Set.copyOf(caps);
    }

    private Layer openLayer(int layer) {
        Path path = directory.resolve("layer_" + layer + ".safetensors");
        if (!Files.isRegularFile(path)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Missing " + path + ": the manifest "
                    + "declares " + manifest.layers() + " layers. Restore the file or fix 'layers'.");
        }
        SafetensorsFile file = SafetensorsFile.open(path);
        try {
            int d = manifest.width();
            int f = manifest.features();
            return new Layer(file, matrix(file, ATOMS, f, d), matrix(file, DECODER, f, d), vector(file, INPUT_BIAS, d),
                    vector(file, OUTPUT_BIAS, d));
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static RowMatrix matrix(SafetensorsFile file, String name, int rows, int cols) {
        TensorInfo info = tensor(file, name);
        if (info.rank() != 2 || info.dim(0) != rows || info.dim(1) != cols) {
            throw MatchingPursuitManifest.malformed(file.path(), "tensor '" + name + "' has shape " + info.shapeString()
                    + ", expected [" + rows + ", " + cols + "]");
        }
        return RowMatrix.of(file, name);
    }

    private static float[] vector(SafetensorsFile file, String name, int length) {
        TensorInfo info = tensor(file, name);
        if (info.rank() != 1 || info.dim(0) != length) {
            throw MatchingPursuitManifest.malformed(file.path(), "tensor '" + name + "' has shape " + info.shapeString()
                    + ", expected [" + length + "]");
        }
        return file.readFloats(name);
    }

    private static TensorInfo tensor(SafetensorsFile file, String name) {
        if (!file.contains(name)) {
            throw MatchingPursuitManifest.malformed(file.path(), "tensor '" + name + "' is missing");
        }
        return file.info(name);
    }

    @Override
    public String formatName() {
        return MatchingPursuitProvider.NAME;
    }

    @Override
    public String scan() {
        return manifest.scan().isBlank() ? Transcoders.localScan(directory) : manifest.scan();
    }

    @Override
    public int layers() {
        return manifest.layers();
    }

    @Override
    public int width() {
        return manifest.width();
    }

    @Override
    public int features(int layer) {
        checkLayer(layer);
        return manifest.features();
    }

    /** Pursuit steps per position. */
    int steps() {
        return manifest.steps();
    }

    @Override
    public SiteKind readSite() {
        return manifest.readSiteKind();
    }

    @Override
    public SiteKind writeSite() {
        return manifest.writeSiteKind();
    }

    @Override
    public int[] outputLayers(int sourceLayer) {
        checkLayer(sourceLayer);
        return new int[] {sourceLayer};
    }

    @Override
    public ActivationFunction activation(int layer) {
        checkLayer(layer);
        return PURSUIT;
    }

    @Override
    public Set<DictionaryCapability> capabilities() {
        return capabilities;
    }

    @Override
    public NDArray preActivations(NDManager manager, int layer, NDArray input) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray h = centered(scope, layer, input).matMul(atoms(scope, layer).transpose());
            h.attach(manager);
            return h;
        }
    }

    @Override
    public NDArray encode(NDManager manager, int layer, NDArray input, Set<Integer> zeroedPositions) {
        Inputs.checkPositions(zeroedPositions);
        try (NDManager scope = manager.newSubManager()) {
            NDArray codes = Pursuit.encode(centered(scope, layer, input), atoms(scope, layer), manifest.steps());
            float[] values = codes.toFloatArray();
            int t = Math.toIntExact(codes.getShape().get(0));
            for (int p : zeroedPositions) {
                if (p < t) {
                    java.util.Arrays.fill(values, p * manifest.features(), (p + 1) * manifest.features(), 0f);
                }
            }
            return manager.create(values, codes.getShape());
        }
    }

    @Override
    public SparseActivations encodeSparse(NDManager manager, int layer, NDArray input, Set<Integer> zeroedPositions) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray dense = encode(scope, layer, input, zeroedPositions);
            int t = Math.toIntExact(dense.getShape().get(0));
            int f = manifest.features();
            float[] values = dense.toFloatArray();
            int count = 0;
            for (float v : values) {
                count += v != 0 ? 1 : 0;
            }
            int[] positions = new int[count];
            int[] features = new int[count];
            float[] active = new float[count];
            int k = 0;
            for (int i = 0; i < values.length; i++) {
                if (values[i] != 0) {
                    positions[k] = i / f;
                    features[k] = i % f;
                    active[k++] = values[i];
                }
            }
            return new SparseActivations(layer, t, positions, features, active);
        }
    }

    @Override
    public NDArray decode(NDManager manager, int outputLayer, List<SparseActivations> activations, NDArray outputInput) {
        checkLayer(outputLayer);
        SparseActivations code = activations.stream().filter(a -> a.layer() == outputLayer).findFirst()
                .orElseThrow(() -> invalid("Decoding layer " + outputLayer + " needs the activations of layer "
                        + outputLayer + " (the only layer writing to it)."));
        try (NDManager scope = manager.newSubManager()) {
            int[] distinct = java.util.Arrays.stream(code.features()).distinct().sorted().toArray();
            // coefficients C [T, n] over the distinct active features, decoder rows R [n, d]: only those are read
            float[] coefficients = new float[code.length() * distinct.length];
            for (int i = 0; i < code.size(); i++) {
                int column = java.util.Arrays.binarySearch(distinct, code.featureAt(i));
                coefficients[code.positionAt(i) * distinct.length + column] += code.valueAt(i);
            }
            NDArray reconstruction = decoderBias(scope, outputLayer).broadcast(new Shape(code.length(), width()));
            if (distinct.length > 0) {
                NDArray c = scope.create(coefficients, new Shape(code.length(), distinct.length));
                reconstruction = reconstruction.add(c.matMul(decoderRows(scope, outputLayer, distinct, outputLayer)));
            }
            reconstruction.attach(manager);
            return reconstruction;
        }
    }

    @Override
    public NDArray decoderRows(NDManager manager, int sourceLayer, int[] features, int outputLayer) {
        checkFeatures(sourceLayer, features);
        if (outputLayer != sourceLayer) {
            throw invalid("Features of layer " + sourceLayer + " write only to layer " + sourceLayer + ", not "
                    + outputLayer + ".");
        }
        NDArray eager = eagerDecoders.get(sourceLayer);
        if (eager == null) {
            return layers.get(sourceLayer).decoder().gather(manager, features);
        }
        NDArray rows = eager.get(manager.create(features));
        rows.attach(manager);
        return rows;
    }

    @Override
    public NDArray encoderRows(NDManager manager, int layer, int[] features) {
        checkFeatures(layer, features);
        NDArray eager = eagerAtoms.get(layer);
        if (eager == null) {
            return layers.get(layer).atoms().gather(manager, features);
        }
        NDArray rows = eager.get(manager.create(features));
        rows.attach(manager);
        return rows;
    }

    @Override
    public NDArray encoderBias(NDManager manager, int layer, int[] features) {
        // h = (x − b_pre)·eᵀ = x·eᵀ − ⟨b_pre, e⟩; summed per row on the host so that a feature's bias does not
        // depend on which other features were asked for
        float[] inputBias = layers.get(layer).inputBias();
        float[] rows;
        try (NDManager scope = manager.newSubManager()) {
            rows = encoderRows(scope, layer, features).toFloatArray();
        }
        float[] bias = new float[features.length];
        for (int i = 0; i < features.length; i++) {
            double dot = 0;
            for (int j = 0; j < inputBias.length; j++) {
                dot += (double) rows[i * inputBias.length + j] * inputBias[j];
            }
            bias[i] = (float) -dot;
        }
        return manager.create(bias);
    }

    @Override
    public NDArray decoderBias(NDManager manager, int outputLayer) {
        checkLayer(outputLayer);
        return manager.create(layers.get(outputLayer).outputBias());
    }

    @Override
    public Optional<LinearMap> skip(int outputLayer) {
        checkLayer(outputLayer);
        return Optional.empty();
    }

    @Override
    public void save(Path target) {
        try {
            Files.createDirectories(target);
            if (Files.exists(target.resolve(MatchingPursuitManifest.FILE))) {
                throw invalid(target + " already holds a matching-pursuit dictionary; choose an empty directory.");
            }
            for (int layer = 0; layer < layers(); layer++) {
                SafetensorsFile file = layers.get(layer).file();
                SafetensorsWriter writer = new SafetensorsWriter();
                for (String name : List.of(ATOMS, DECODER, INPUT_BIAS, OUTPUT_BIAS)) {
                    writer.copy(file, name);
                }
                writer.write(target.resolve("layer_" + layer + ".safetensors"));
            }
            manifest.write(target);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot write the dictionary to "
                    + target + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        weights.close();
        layers.forEach(l -> l.file().close());
    }

    private NDArray atoms(NDManager scope, int layer) {
        NDArray eager = eagerAtoms.get(layer);
        return eager != null ? eager : layers.get(layer).atoms().load(scope);
    }

    private NDArray inputBias(NDManager scope, int layer) {
        return scope.create(layers.get(layer).inputBias());
    }

    /** {@code input − b_pre} in the scope, after checking the layer and the input's shape. */
    private NDArray centered(NDManager scope, int layer, NDArray input) {
        checkLayer(layer);
        Shape shape = input.getShape();
        if (shape.dimension() != 2 || shape.get(1) != width()) {
            throw invalid("Layer " + layer + " encodes inputs of shape [T, " + width() + "], got " + shape + ".");
        }
        NDArray x = input.toType(ai.djl.ndarray.types.DataType.FLOAT32, true);
        x.attach(scope);
        return x.sub(inputBias(scope, layer));
    }

    private void checkLayer(int layer) {
        checkOpen();
        Inputs.checkLayer(this, layer);
    }

    private void checkFeatures(int layer, int[] features) {
        checkOpen();
        Inputs.checkFeatures(this, layer, features);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("The dictionary at " + directory + " is closed.");
        }
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }
}
