package org.circuittracer.transcoders.nativeformat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.CRC32C;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.TensorInfo;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.transcoders.common.Resources;
import org.circuittracer.transcoders.common.RowMatrix;
import org.circuittracer.transcoders.common.TranscoderDictionary;
import org.circuittracer.transcoders.common.Transcoders;
import org.circuittracer.transcoders.common.WeightVector;

/** Opens a circuit-tracer dictionary directory: manifest, checksums, tensor names and shapes, then the weights. */
final class NativeFormatReader {

    /** The option that chooses how much of each file is checked against its checksums. */
    static final String VERIFY = "verify";
    /** {@code verify=header} (the default): file size and a SHA-256 of the safetensors header, read on every open. */
    static final String VERIFY_HEADER = "header";
    /** {@code verify=full}: also a CRC32C of every byte (reads the whole files once). */
    static final String VERIFY_FULL = "full";

    private static final Set<DType> STORED_TYPES = Set.of(DType.F32, DType.BF16, DType.F16);

    private NativeFormatReader() {
    }

    static TranscoderDictionary open(DictionarySource source) {
        Path directory = source.directory();
        boolean full = verifyFully(source);
        Manifest manifest = Manifest.read(directory);
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            List<Transcoders.SourceLayer> sources = new ArrayList<>();
            List<Transcoders.OutputLayer> outputs = new ArrayList<>();
            for (int layer = 0; layer < manifest.layers(); layer++) {
                String name = manifest.files().get(layer);
                Path path = directory.resolve(name);
                verify(path, manifest.checksums().get(name), full);
                SafetensorsFile file = SafetensorsFile.open(path);
                opened.add(file);
                readLayer(manifest, layer, file, sources, outputs);
            }
            Transcoders spec = new Transcoders(NativeFormatProvider.NAME,
                    manifest.scan().orElseGet(() -> Transcoders.localScan(directory)), manifest.readSite(),
                    manifest.writeSite(), manifest.width(), sources, outputs);
            return TranscoderDictionary.open(spec, source.lazyEncoder(), source.lazyDecoder(),
                    Optional.of(target -> copy(directory, manifest, target)), opened);
        } catch (RuntimeException e) {
            throw Resources.closeAfter(e, opened);
        }
    }

    private static boolean verifyFully(DictionarySource source) {
        Map<String, String> options = source.options();
        Set<String> unknown = new TreeSet<>(options.keySet());
        unknown.remove(VERIFY);
        if (!unknown.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Unknown option" + (unknown.size() == 1
                    ? " " : "s ") + unknown + " for the " + NativeFormatProvider.NAME + " format; it takes " + VERIFY
                    + "=" + VERIFY_HEADER + "|" + VERIFY_FULL + ".");
        }
        String verify = options.getOrDefault(VERIFY, VERIFY_HEADER);
        if (!verify.equals(VERIFY_HEADER) && !verify.equals(VERIFY_FULL)) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Option " + VERIFY + "=" + verify
                    + " is not one of " + VERIFY_HEADER + " (size and header checksum) or " + VERIFY_FULL
                    + " (every byte).");
        }
        return verify.equals(VERIFY_FULL);
    }

    /** Checks a layer file against its manifest entry before it is opened. */
    private static void verify(Path file, Manifest.FileChecksum expected, boolean full) {
        if (!Files.isRegularFile(file)) {
            throw corrupt(file, "is listed in " + Manifest.FILE_NAME + " but missing");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size != expected.bytes()) {
                throw corrupt(file, "has " + size + " bytes but " + Manifest.FILE_NAME + " records " + expected.bytes()
                        + " (truncated or replaced)");
            }
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, length, 0);
            long headerLength = length.getLong(0);
            if (headerLength <= 0 || headerLength > size - 8) {
                throw corrupt(file, "has a header length of " + headerLength + " in a file of " + size + " bytes");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(channel, header, 8);
            String sha = HexFormat.of().formatHex(StreamingSafetensorsWriter.sha256(header.array()));
            if (!sha.equals(expected.headerSha256())) {
                throw corrupt(file, "has a header whose SHA-256 is " + sha + " but " + Manifest.FILE_NAME + " records "
                        + expected.headerSha256());
            }
            if (full) {
                CRC32C crc = new CRC32C();
                ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
                for (long position = 0; position < size; position += chunk.limit()) {
                    chunk.clear().limit((int) Math.min(chunk.capacity(), size - position));
                    readFully(channel, chunk, position);
                    crc.update(chunk.flip());
                }
                String value = StreamingSafetensorsWriter.crc32c(crc);
                if (!value.equals(expected.crc32c())) {
                    throw corrupt(file, "has CRC32C " + value + " but " + Manifest.FILE_NAME + " records "
                            + expected.crc32c() + " (its data changed)");
                }
            }
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot read " + file + ": " + e, e);
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) {
                throw new IOException("unexpected end of file at byte " + at);
            }
            at += n;
        }
    }

    private static void readLayer(Manifest manifest, int layer, SafetensorsFile file,
                                  List<Transcoders.SourceLayer> sources, List<Transcoders.OutputLayer> outputs) {
        int features = manifest.features()[layer];
        int width = manifest.width();
        int blocks = manifest.kind().outputs(layer, manifest.layers());
        boolean jump = manifest.activation() instanceof ActivationFunction.JumpRelu;
        Map<String, long[]> required = new LinkedHashMap<>();
        required.put("W_enc", new long[] {features, width});
        required.put("b_enc", new long[] {features});
        if (jump) {
            required.put("threshold", new long[] {features});
        }
        required.put("W_dec", new long[] {features, blocks, width});
        required.put("b_dec", new long[] {width});
        Map<String, long[]> optional = Map.of("W_skip", new long[] {width, width});
        for (String name : required.keySet()) {
            if (!file.contains(name)) {
                throw corrupt(file.path(), "has no tensor " + name + "; it holds " + required.keySet()
                        + " and optionally W_skip");
            }
        }
        for (TensorInfo tensor : file.tensors()) {
            long[] shape = required.containsKey(tensor.name()) ? required.get(tensor.name())
                    : optional.get(tensor.name());
            if (shape == null) {
                throw corrupt(file.path(), "has an unexpected tensor " + tensor.name() + "; it holds "
                        + required.keySet() + " and optionally W_skip");
            }
            if (!Arrays.equals(tensor.shape(), shape) || !STORED_TYPES.contains(tensor.dtype())) {
                throw corrupt(file.path(), "has " + tensor.name() + " " + tensor.dtype() + " " + tensor.shapeString()
                        + "; " + Manifest.FILE_NAME + " (" + manifest.kind().name() + ", F=" + features + ", d="
                        + width + ") needs F32, BF16 or F16 " + Arrays.toString(shape));
            }
        }
        List<RowMatrix> decoders = new ArrayList<>();
        for (int k = 0; k < blocks; k++) {
            decoders.add(RowMatrix.columns(file, "W_dec", (long) k * width, width));
        }
        sources.add(new Transcoders.SourceLayer(RowMatrix.of(file, "W_enc"), WeightVector.read(file, "b_enc"),
                manifest.activation(), jump ? Optional.of(WeightVector.read(file, "threshold")) : Optional.empty(),
                decoders));
        outputs.add(new Transcoders.OutputLayer(WeightVector.read(file, "b_dec"), file.contains("W_skip")
                ? Optional.of(new Transcoders.Skip(RowMatrix.of(file, "W_skip"), false)) : Optional.empty()));
    }

    /** {@code save}: the files are already in the format, so they are copied unchanged, the manifest last. */
    private static void copy(Path directory, Manifest manifest, Path target) {
        NativeFormatWriter.prepare(target);
        try {
            for (String name : manifest.files()) {
                Files.copy(directory.resolve(name), target.resolve(name));
            }
            NativeFormatWriter.writeManifest(target, Files.readString(directory.resolve(Manifest.FILE_NAME)));
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot copy " + directory + " to "
                    + target + ": " + e, e);
        }
    }

    private static CircuitTracerException corrupt(Path file, String problem) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " " + problem + "; the dictionary "
                + "is incomplete or corrupt: copy or convert it again.");
    }
}
