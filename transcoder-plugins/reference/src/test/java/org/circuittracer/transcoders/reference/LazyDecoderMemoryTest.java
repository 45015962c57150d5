package org.circuittracer.transcoders.reference;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.circuittracer.safetensors.DType;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.transcoders.common.ModelKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A realistically sized set — 65,536 features × 512 wide × 4 layers, 512 MiB of F32 decoders (and as much encoder) —
 * opened lazily: encoding a batch, decoding it and gathering 300 decoder rows per layer keep the heap and the direct
 * memory far below the decoder's size. (Which bytes are read is counted exactly in the common module's
 * {@code LazyDecoderReadsTest}; resident file pages are no measure: the kernel maps page-cache folios whole.)
 */
class LazyDecoderMemoryTest {

    private static final int FEATURES = 65_536;
    private static final int WIDTH = 512;
    private static final int LAYERS = 4;
    private static final int POSITIONS = 32;
    private static final long DECODER_BYTES = (long) LAYERS * FEATURES * WIDTH * Float.BYTES;

    @TempDir
    Path dir;

    @Test
    void encodingDecodingAndGatheringRowsNeverLoadTheDecoder() throws IOException {
        long written = System.nanoTime();
        writeLargeSet(dir);
        System.out.printf("LazyDecoderMemoryTest: wrote %d MiB of decoders and as much encoder in %.1f s%n",
                DECODER_BYTES >> 20, (System.nanoTime() - written) / 1e9);

        Memory before = Memory.settle();
        long started = System.nanoTime();
        int active = 0;
        try (NDManager manager = NDManager.newBaseManager()) {
            Path set = dir.resolve("set");
            for (DictionarySource source : List.of(DictionarySource.of(set), new DictionarySource(set, true, true, Map.of()))) {
                try (SparseDictionary d = new ReferencePerLayerProvider().create(source)) {
                    List<SparseActivations> codes = new ArrayList<>();
                    List<NDArray> inputs = new ArrayList<>();
                    for (int layer = 0; layer < LAYERS; layer++) {
                        inputs.add(manager.randomNormal(new Shape(POSITIONS, WIDTH)));
                        codes.add(d.encodeSparse(manager, layer, inputs.get(layer), Set.of(0)));
                        active += codes.get(layer).size();
                    }
                    Random random = new Random(1);
                    for (int layer = 0; layer < LAYERS; layer++) {
                        NDArray reconstruction = d.decode(manager, layer, List.of(codes.get(layer)), inputs.get(layer));
                        assertThat(reconstruction.getShape()).isEqualTo(new Shape(POSITIONS, WIDTH));
                        int[] ids = random.ints(300, 0, FEATURES).toArray();
                        assertThat(d.decoderRows(manager, layer, ids, layer).getShape()).isEqualTo(new Shape(300, WIDTH));
                    }
                }
            }
            Memory after = Memory.peak();
            double seconds = (System.nanoTime() - started) / 1e9;
            long heapGrowth = after.heap() - before.heap();
            long directGrowth = after.direct() - before.direct();
            System.out.printf("LazyDecoderMemoryTest: %d active entries; peak heap growth %.1f MiB, direct memory "
                            + "growth %.1f MiB; decoder %d MiB; %.1f s%n", active, heapGrowth / 1048576.0,
                    directGrowth / 1048576.0, DECODER_BYTES >> 20, seconds);
            assertThat(active).isEqualTo(2 * LAYERS * (POSITIONS - 1) * 16);
            assertThat(heapGrowth).as("peak heap growth").isLessThan(DECODER_BYTES / 10);
            assertThat(directGrowth).as("direct memory growth").isLessThan(DECODER_BYTES / 10);
        }
    }

    /**
     * Random uniform weights, generated once into a memory-mapped scratch file and streamed from it into every
     * matrix: no heap array and no direct buffer of the decoder's size.
     */
    private static void writeLargeSet(Path dir) throws IOException {
        MappedByteBuffer matrix;
        try (FileChannel scratch = FileChannel.open(dir.resolve("scratch.bin"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            matrix = scratch.map(FileChannel.MapMode.READ_WRITE, 0, (long) FEATURES * WIDTH * Float.BYTES);
        }
        FloatBuffer floats = matrix.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        long state = 0x9E3779B97F4A7C15L;
        for (int i = 0; i < FEATURES * WIDTH; i++) { // xorshift: a fast deterministic fill
            state ^= state << 13;
            state ^= state >>> 7;
            state ^= state << 17;
            floats.put(i, (state >>> 40) / (float) (1 << 23) - 1f);
        }
        Tensor weights = new Tensor(DType.F32, new long[] {FEATURES, WIDTH}, matrix);
        Tensor encoderBias = Tensor.floats(DType.F32, new long[] {FEATURES}, new float[FEATURES]);
        Tensor decoderBias = Tensor.floats(DType.F32, new long[] {WIDTH}, new float[WIDTH]);
        List<ReferenceFormatWriter.PerLayerTensors> layers = new ArrayList<>();
        for (int layer = 0; layer < LAYERS; layer++) {
            layers.add(new ReferenceFormatWriter.PerLayerTensors(weights, encoderBias, weights, decoderBias,
                    Optional.empty(), Optional.empty()));
        }
        ReferenceFormatWriter.writePerLayer(dir.resolve("set"), SyntheticTranscoders.config(ModelKind.TRANSCODER_SET)
                .withActivation(new ActivationFunction.TopK(16)), layers);
        Files.delete(dir.resolve("scratch.bin"));
    }

    /** Heap and direct-buffer memory in bytes. */
    private record Memory(long heap, long direct) {

        /** Current use after a full collection; resets the heap pools' peaks. */
        static Memory settle() {
            System.gc();
            long heap = 0;
            for (MemoryPoolMXBean pool : heapPools()) {
                heap += pool.getUsage().getUsed();
                pool.resetPeakUsage();
            }
            return new Memory(heap, directBytes());
        }

        /** The heap pools' peaks since {@link #settle()} (summed, so an upper bound) and the current direct use. */
        static Memory peak() {
            return new Memory(heapPools().stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum(), directBytes());
        }

        private static List<MemoryPoolMXBean> heapPools() {
            return ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP)
                    .toList();
        }

        private static long directBytes() {
            return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                    .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
        }
    }
}
