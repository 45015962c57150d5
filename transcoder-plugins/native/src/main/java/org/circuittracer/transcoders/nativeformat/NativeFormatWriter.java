package org.circuittracer.transcoders.nativeformat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.LinearMap;
import org.circuittracer.transcoders.common.TranscoderDictionary;

/**
 * Writes a loaded per-layer or cross-layer dictionary, whatever its format, in the circuit-tracer dictionary format:
 * this is how a format without lazy loading (GemmaScope {@code .npz}) becomes lazily loadable, as the reference's cache
 * does. Everything is read through the {@link SparseDictionary} interface, a bounded chunk of rows at a time (about
 * {@value #CHUNK_BYTES} bytes), and written as F32, so memory stays bounded whatever the dictionary's size. Layer files
 * come first and {@code dictionary.json} last, so an interrupted conversion leaves no readable dictionary.
 *
 * <p>Per layer {@code i}, {@code layer_i.safetensors} holds {@code W_enc [F, d]}, {@code b_enc [F]}, {@code threshold
 * [F]} (JumpReLU only), {@code W_dec [F, n, d]} ({@code n} = 1 for per-layer transcoders, {@code L − i} for a
 * cross-layer transcoder: block {@code k} is what each feature writes into layer {@code i + k}), {@code b_dec [d]} (the
 * decoder bias of output layer {@code i}) and, if output layer {@code i} has a skip connection, {@code W_skip [d, d]}
 * applied as {@code x·W_skip} (input × output).
 */
public final class NativeFormatWriter {

    /** About how many bytes of rows are gathered at a time. */
    static final long CHUNK_BYTES = 8L << 20;

    private NativeFormatWriter() {
    }

    /**
     * Writes {@code dictionary} into {@code directory} (created if absent; it must not already hold a dictionary).
     *
     * @throws CircuitTracerException INVALID_ARGUMENT for a dictionary the format cannot hold (neither per-layer nor
     *                                cross-layer, activation functions that differ between layers or are not ReLU,
     *                                JumpReLU, TopK or ReLU after TopK, JumpReLU thresholds that cannot be read);
     *                                FILE_NOT_FOUND if the directory cannot be written
     */
    public static void write(SparseDictionary dictionary, Path directory) {
        write(dictionary, directory, CHUNK_BYTES);
    }

    /** {@link #write(SparseDictionary, Path)} gathering about {@code chunkBytes} bytes of rows at a time. */
    static void write(SparseDictionary dictionary, Path directory, long chunkBytes) {
        int layers = dictionary.layers();
        Manifest.Kind kind = kindOf(dictionary);
        ActivationFunction activation = activationOf(dictionary);
        prepare(directory);
        List<String> files = new ArrayList<>();
        Map<String, Manifest.FileChecksum> checksums = new LinkedHashMap<>();
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int layer = 0; layer < layers; layer++) {
                String name = Manifest.layerFile(layer);
                checksums.put(name, writeLayer(dictionary, manager, layer, kind.outputs(layer, layers),
                        directory.resolve(name), chunkBytes));
                files.add(name);
            }
        }
        int[] features = IntStream.range(0, layers).map(dictionary::features).toArray();
        Manifest manifest = new Manifest(kind, layers, dictionary.width(), features, dictionary.readSite(),
                dictionary.writeSite(), activation, Optional.of(dictionary.scan()), files, checksums);
        writeManifest(directory, manifest.toJson());
    }

    private static Manifest.Kind kindOf(SparseDictionary dictionary) {
        int layers = dictionary.layers();
        boolean perLayer = true;
        boolean crossLayer = true;
        for (int layer = 0; layer < layers; layer++) {
            int[] outputs = dictionary.outputLayers(layer);
            perLayer &= Arrays.equals(outputs, new int[] {layer});
            crossLayer &= Arrays.equals(outputs, IntStream.range(layer, layers).toArray());
        }
        if (perLayer) {
            return Manifest.Kind.PLT;
        }
        if (crossLayer) {
            return Manifest.Kind.CLT;
        }
        throw invalid("The '" + dictionary.formatName() + "' dictionary is neither per-layer (each layer writes to "
                + "itself) nor cross-layer (each layer writes to itself and every later layer); the circuit-tracer "
                + "dictionary format holds only those.");
    }

    private static ActivationFunction activationOf(SparseDictionary dictionary) {
        ActivationFunction first = dictionary.activation(0);
        for (int layer = 1; layer < dictionary.layers(); layer++) {
            if (!dictionary.activation(layer).equals(first)) {
                throw invalid("Layer " + layer + " of the '" + dictionary.formatName() + "' dictionary computes "
                        + dictionary.activation(layer) + " but layer 0 computes " + first + "; the circuit-tracer "
                        + "dictionary format holds one activation function for all layers.");
            }
        }
        if (!Manifest.storable(first)) {
            throw invalid("The '" + dictionary.formatName() + "' dictionary computes " + first + "; the circuit-tracer "
                    + "dictionary format holds ReLU, JumpReLU, TopK and ReLU after TopK.");
        }
        if (first instanceof ActivationFunction.JumpRelu && !(dictionary instanceof TranscoderDictionary)) {
            throw invalid("The JumpReLU thresholds of a '" + dictionary.formatName() + "' dictionary ("
                    + dictionary.getClass().getName() + ") cannot be read; only dictionaries of the transcoder "
                    + "formats expose them.");
        }
        return first;
    }

    private static Manifest.FileChecksum writeLayer(SparseDictionary dictionary, NDManager manager, int layer,
                                                    int outputs, Path file, long chunkBytes) {
        int features = dictionary.features(layer);
        int width = dictionary.width();
        Optional<float[]> thresholds = dictionary.activation(layer) instanceof ActivationFunction.JumpRelu
                ? ((TranscoderDictionary) dictionary).thresholds(layer) : Optional.empty();
        Optional<LinearMap> skip = dictionary.skip(layer);
        List<StreamingSafetensorsWriter.Declared> tensors = new ArrayList<>();
        tensors.add(new StreamingSafetensorsWriter.Declared("W_enc", new long[] {features, width}));
        tensors.add(new StreamingSafetensorsWriter.Declared("b_enc", new long[] {features}));
        thresholds.ifPresent(t -> tensors.add(new StreamingSafetensorsWriter.Declared("threshold",
                new long[] {features})));
        tensors.add(new StreamingSafetensorsWriter.Declared("W_dec", new long[] {features, outputs, width}));
        tensors.add(new StreamingSafetensorsWriter.Declared("b_dec", new long[] {width}));
        skip.ifPresent(s -> tensors.add(new StreamingSafetensorsWriter.Declared("W_skip", new long[] {width, width})));
        try (StreamingSafetensorsWriter out = StreamingSafetensorsWriter.create(file, tensors)) {
            int[] all = IntStream.range(0, features).toArray();
            inChunks(manager, chunkBytes, features, (long) width * Float.BYTES, out,
                    (scope, ids) -> dictionary.encoderRows(scope, layer, ids).toFloatArray());
            try (NDManager scope = manager.newSubManager()) {
                out.append(dictionary.encoderBias(scope, layer, all).toFloatArray());
            }
            thresholds.ifPresent(out::append);
            inChunks(manager, chunkBytes, features, (long) outputs * width * Float.BYTES, out,
                    (scope, ids) -> decoderRows(dictionary, scope, layer, ids, outputs, width));
            try (NDManager scope = manager.newSubManager()) {
                out.append(dictionary.decoderBias(scope, layer).toFloatArray());
            }
            skip.ifPresent(map -> inChunks(manager, chunkBytes, width, (long) width * Float.BYTES, out,
                    (scope, ids) -> map.apply(identityRows(scope, ids, width)).toFloatArray()));
            return out.finish();
        }
    }

    /** Rows {@code ids} of {@code W_dec [F, n, d]}: the rows of each output layer's block, interleaved. */
    private static float[] decoderRows(SparseDictionary dictionary, NDManager scope, int layer, int[] ids, int outputs,
                                       int width) {
        float[] rows = new float[ids.length * outputs * width];
        for (int k = 0; k < outputs; k++) {
            float[] block = dictionary.decoderRows(scope, layer, ids, layer + k).toFloatArray();
            for (int i = 0; i < ids.length; i++) {
                System.arraycopy(block, i * width, rows, (i * outputs + k) * width, width);
            }
        }
        return rows;
    }

    /** Rows {@code ids} of the identity {@code [d, d]}: {@code skip} of them are the rows of its matrix. */
    private static NDArray identityRows(NDManager scope, int[] ids, int width) {
        float[] rows = new float[ids.length * width];
        for (int i = 0; i < ids.length; i++) {
            rows[i * width + ids[i]] = 1f;
        }
        return scope.create(rows, new Shape(ids.length, width));
    }

    /** What one chunk of rows reads, in a scope closed after the chunk is written. */
    private interface ChunkReader {
        float[] read(NDManager scope, int[] ids);
    }

    private static void inChunks(NDManager manager, long chunkBytes, int rows, long rowBytes,
                                 StreamingSafetensorsWriter out, ChunkReader reader) {
        int perChunk = (int) Math.max(1, Math.min(rows, chunkBytes / rowBytes));
        IntFunction<int[]> chunk = start -> IntStream.range(start, Math.min(rows, start + perChunk)).toArray();
        for (int start = 0; start < rows; start += perChunk) {
            try (NDManager scope = manager.newSubManager()) {
                out.append(reader.read(scope, chunk.apply(start)));
            }
        }
    }

    /** Creates the directory; refuses one that already holds a dictionary. */
    static void prepare(Path directory) {
        if (Files.exists(directory.resolve(Manifest.FILE_NAME))) {
            throw invalid(directory + " already holds a dictionary (" + Manifest.FILE_NAME + "); write into a new or "
                    + "empty directory.");
        }
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot create " + directory + ": " + e,
                    e);
        }
    }

    /** Writes {@code dictionary.json} atomically: its appearance completes the directory. */
    static void writeManifest(Path directory, String json) {
        Path target = directory.resolve(Manifest.FILE_NAME);
        Path temporary = directory.resolve("." + Manifest.FILE_NAME + ".tmp");
        try {
            Files.writeString(temporary, json, StandardCharsets.UTF_8);
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot write " + target + ": " + e, e);
        }
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }
}
