package org.circuittracer.transcoders.common;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.safetensors.TensorInfo;
import org.circuittracer.safetensors.TensorSource;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With a lazy decoder, decoding reads exactly the decoder rows of the active features (for a cross-layer decoder: only
 * the block of the requested output layer) and gathering reads exactly the requested rows; the full decoder is never
 * read. Counted at the file: every byte goes through {@link TensorSource#bytes}.
 */
class LazyDecoderReadsTest {

    private static final int FEATURES = 1000;
    private static final int WIDTH = 16;
    private static final int LAYERS = 2;

    @TempDir
    Path dir;

    private NDManager manager;

    @BeforeEach
    void createManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }

    /** A cross-layer transcoder: layer 0 writes to 0 and 1 ({@code W_dec_0 [F, 2, d]}), layer 1 to 1. */
    private RecordingSource crossLayerFile() {
        Random random = new Random(3);
        SafetensorsWriter writer = new SafetensorsWriter();
        for (int layer = 0; layer < LAYERS; layer++) {
            writer.addFloats("W_enc_" + layer, new long[] {FEATURES, WIDTH}, gaussian(random, FEATURES * WIDTH));
            writer.addFloats("b_enc_" + layer, new long[] {FEATURES}, new float[FEATURES]);
            writer.addFloats("b_dec_" + layer, new long[] {WIDTH}, gaussian(random, WIDTH));
            writer.addFloats("W_dec_" + layer, new long[] {FEATURES, LAYERS - layer, WIDTH},
                    gaussian(random, FEATURES * (LAYERS - layer) * WIDTH));
        }
        writer.write(dir.resolve("clt.safetensors"));
        return new RecordingSource(SafetensorsFile.open(dir.resolve("clt.safetensors")));
    }

    private static Transcoders spec(TensorSource file) {
        List<Transcoders.SourceLayer> sources = new ArrayList<>();
        List<Transcoders.OutputLayer> outputs = new ArrayList<>();
        for (int layer = 0; layer < LAYERS; layer++) {
            List<RowMatrix> decoders = new ArrayList<>();
            for (int k = 0; k < LAYERS - layer; k++) {
                decoders.add(RowMatrix.columns(file, "W_dec_" + layer, (long) k * WIDTH, WIDTH));
            }
            sources.add(new Transcoders.SourceLayer(RowMatrix.of(file, "W_enc_" + layer),
                    WeightVector.read(file, "b_enc_" + layer), new ActivationFunction.TopK(3), Optional.empty(),
                    decoders));
            outputs.add(new Transcoders.OutputLayer(WeightVector.read(file, "b_dec_" + layer), Optional.empty()));
        }
        return new Transcoders("test", "test", SiteKind.RESID_MID, SiteKind.MLP_OUT, WIDTH, sources, outputs);
    }

    @Test
    void decodingReadsOnlyTheActiveRowsOfTheRequestedBlock() {
        RecordingSource file = crossLayerFile();
        try (SparseDictionary d = TranscoderDictionary.open(spec(file), false, true, Optional.empty(), List.of(file))) {
            file.reset();
            NDArray x = manager.randomNormal(new Shape(5, WIDTH));
            SparseActivations code0 = d.encodeSparse(manager, 0, x, Set.of(0));
            SparseActivations code1 = d.encodeSparse(manager, 1, x, Set.of(0));
            assertThat(file.read("W_dec_0")).as("encoding reads no decoder").isZero();
            long rowBytes = WIDTH * Float.BYTES;

            d.decode(manager, 1, List.of(code0, code1), x);
            assertThat(file.read("W_dec_0")).as("layer 0's block for output layer 1, active rows only")
                    .isEqualTo(distinct(code0) * rowBytes);
            assertThat(file.read("W_dec_1")).isEqualTo(distinct(code1) * rowBytes);

            file.reset();
            d.decoderRows(manager, 0, new Random(1).ints(300, 0, FEATURES).toArray(), 0);
            assertThat(file.read("W_dec_0")).as("300 gathered rows").isEqualTo(300 * rowBytes);
            assertThat(file.total()).isEqualTo(300 * rowBytes);
        }
    }

    @Test
    void anEagerDecoderIsReadWholeAtOpenAndNeverAgain() {
        RecordingSource file = crossLayerFile();
        try (SparseDictionary d = TranscoderDictionary.open(spec(file), false, false, Optional.empty(), List.of(file))) {
            assertThat(file.read("W_dec_0")).as("both blocks of every row, at open")
                    .isEqualTo((long) FEATURES * LAYERS * WIDTH * Float.BYTES);
            file.reset();
            NDArray x = manager.randomNormal(new Shape(5, WIDTH));
            d.decode(manager, 0, List.of(d.encodeSparse(manager, 0, x, Set.of())), x);
            assertThat(file.total()).isZero();
        }
    }

    private static long distinct(SparseActivations code) {
        return Arrays.stream(code.features()).distinct().count();
    }

    private static float[] gaussian(Random random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    /** Counts the bytes read per tensor; everything else is the wrapped file's. */
    private static final class RecordingSource implements TensorSource {
        private final TensorSource file;
        private final Map<String, AtomicLong> read = new ConcurrentHashMap<>();

        RecordingSource(TensorSource file) {
            this.file = file;
        }

        long read(String tensor) {
            return read.getOrDefault(tensor, new AtomicLong()).get();
        }

        long total() {
            return read.values().stream().mapToLong(AtomicLong::get).sum();
        }

        void reset() {
            read.clear();
        }

        @Override
        public ByteBuffer bytes(String name) {
            read.computeIfAbsent(name, n -> new AtomicLong()).addAndGet(file.info(name).byteSize());
            return file.bytes(name);
        }

        @Override
        public ByteBuffer bytes(String name, long byteOffset, long byteLength) {
            read.computeIfAbsent(name, n -> new AtomicLong()).addAndGet(byteLength);
            return file.bytes(name, byteOffset, byteLength);
        }

        @Override
        public List<String> names() {
            return file.names();
        }

        @Override
        public boolean contains(String name) {
            return file.contains(name);
        }

        @Override
        public TensorInfo info(String name) {
            return file.info(name);
        }

        @Override
        public Path fileOf(String name) {
            return file.fileOf(name);
        }

        @Override
        public Map<String, String> metadata() {
            return file.metadata();
        }

        @Override
        public void close() {
            file.close();
        }
    }
}
