package org.circuittracer.transcoders.nativeformat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import org.assertj.core.api.ThrowableAssert;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCode;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.DictionaryCapability;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Conversion from the reference format is exact; the manifest is checked before anything is read, and versions this
 * build does not read are told apart from corrupt directories.
 */
class NativeFormatTest {

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

    // ---------------------------------------------------------------- conversion

    @Test
    void aConvertedCrossLayerSetComputesExactlyWhatTheOriginalComputes() {
        assertConversionIsExact(new Synthetic.Spec(true, true, false, Optional.empty()),
                NativeFormatWriter.CHUNK_BYTES);
    }

    @Test
    void rowsGatheredInSmallChunksGiveTheSameFiles() {
        // 100-byte chunks: one row at a time for every matrix, so chunk boundaries fall everywhere
        assertConversionIsExact(new Synthetic.Spec(false, true, true, Optional.empty()), 100);
    }

    private void assertConversionIsExact(Synthetic.Spec spec, long chunkBytes) {
        Path source = Synthetic.reference(dir.resolve("reference"), spec, 11);
        Path converted = dir.resolve("native");
        try (SparseDictionary original = Synthetic.openReference(source, spec.crossLayer())) {
            NativeFormatWriter.write(original, converted, chunkBytes);
            try (SparseDictionary copy = new NativeFormatProvider().create(DictionarySource.of(converted))) {
                assertThat(copy.capabilities()).contains(DictionaryCapability.LAZY_DECODER,
                        DictionaryCapability.WRITABLE);
                assertThat(copy.scan()).isEqualTo(original.scan());
                assertSameComputation(original, copy);
            }
        }
    }

    @Test
    void withoutAScanInTheManifestTheScanIsTheDirectorysAbsoluteNormalisedPath() throws IOException {
        Path source = Synthetic.reference(dir.resolve("reference"), Synthetic.Spec.plt(), 5);
        Path converted = dir.resolve("native");
        try (SparseDictionary original = Synthetic.openReference(source, false)) {
            NativeFormatWriter.write(original, converted);
        }
        Path manifest = converted.resolve(Manifest.FILE_NAME);
        String json = Files.readString(manifest);
        assertThat(json).contains("\"scan\"");
        Files.writeString(manifest, json.replaceAll("\"scan\"\\s*:\\s*\"[^\"]*\"\\s*,", ""));
        Path relative = Path.of("").toAbsolutePath().relativize(converted.toAbsolutePath()).resolve(".");
        try (SparseDictionary copy = new NativeFormatProvider().create(DictionarySource.of(relative))) {
            assertThat(copy.scan()).isEqualTo(converted.toAbsolutePath().normalize().toString()).startsWith("/");
        }
    }

    static void assertSameComputation(SparseDictionary expected, SparseDictionary actual) {
        try (NDManager scope = NDManager.newBaseManager()) {
            assertThat(actual.layers()).isEqualTo(expected.layers());
            assertThat(actual.width()).isEqualTo(expected.width());
            assertThat(actual.readSite()).isEqualTo(expected.readSite());
            assertThat(actual.writeSite()).isEqualTo(expected.writeSite());
            List<NDArray> inputs = new ArrayList<>();
            for (int layer = 0; layer < expected.layers(); layer++) {
                assertThat(actual.activation(layer)).isEqualTo(expected.activation(layer));
                assertThat(actual.outputLayers(layer)).isEqualTo(expected.outputLayers(layer));
                assertThat(actual.skip(layer).isPresent()).isEqualTo(expected.skip(layer).isPresent());
                NDArray x = scope.randomNormal(new Shape(7, expected.width()));
                inputs.add(x);
                assertThat(actual.preActivations(scope, layer, x).toFloatArray())
                        .containsExactly(expected.preActivations(scope, layer, x).toFloatArray());
                assertThat(actual.encodeSparse(scope, layer, x, Set.of(0)))
                        .isEqualTo(expected.encodeSparse(scope, layer, x, Set.of(0)));
            }
            for (int out = 0; out < expected.layers(); out++) {
                List<SparseActivations> codes = new ArrayList<>();
                int target = out;
                for (int source = 0; source < expected.layers(); source++) {
                    if (IntStream.of(expected.outputLayers(source)).anyMatch(o -> o == target)) {
                        codes.add(expected.encodeSparse(scope, source, inputs.get(source), Set.of(0)));
                    }
                }
                assertThat(actual.decode(scope, out, codes, inputs.get(out)).toFloatArray())
                        .containsExactly(expected.decode(scope, out, codes, inputs.get(out)).toFloatArray());
            }
        }
    }

    @Test
    void theWriterRefusesADirectoryThatHoldsADictionary() {
        Path converted = convertedPlt();
        try (SparseDictionary d = new NativeFormatProvider().create(DictionarySource.of(converted))) {
            expect(() -> NativeFormatWriter.write(d, converted), StandardErrorCode.INVALID_ARGUMENT, "already holds");
        }
    }

    // ---------------------------------------------------------------- versions

    @Test
    void aNewerFormatVersionAsksForAnUpgrade() {
        Path converted = editManifest(convertedPlt(), json -> json.replace("\"formatVersion\" : 1",
                "\"formatVersion\" : 2"));
        expect(() -> open(converted), StandardErrorCode.UNSUPPORTED_FORMAT_VERSION, "formatVersion 2",
                "Upgrade circuit-tracer");
    }

    @Test
    void aNewerVersionIsReportedBeforeFieldsThisBuildDoesNotKnow() {
        Path converted = editManifest(convertedPlt(), json -> json.replace("\"formatVersion\" : 1",
                "\"formatVersion\" : 7, \"sharding\" : {\"shards\" : 4}").replace("\"kind\" : \"plt\"",
                "\"kind\" : \"tiled\""));
        expect(() -> open(converted), StandardErrorCode.UNSUPPORTED_FORMAT_VERSION, "Upgrade circuit-tracer");
    }

    @Test
    void anOlderFormatVersionAsksForAFreshConversion() {
        Path converted = editManifest(convertedPlt(), json -> json.replace("\"formatVersion\" : 1",
                "\"formatVersion\" : 0"));
        expect(() -> open(converted), StandardErrorCode.UNSUPPORTED_FORMAT_VERSION, "older than this build reads",
                "Convert");
    }

    // ---------------------------------------------------------------- corruption

    @Test
    void invalidJsonIsACorruptDirectory() {
        Path converted = editManifest(convertedPlt(), json -> json.substring(0, json.length() / 2));
        expect(() -> open(converted), StandardErrorCode.MALFORMED_FILE, "dictionary.json is not valid JSON");
    }

    @Test
    void aMissingFileIsACorruptDirectory() {
        Path converted = convertedPlt();
        delete(converted.resolve("layer_1.safetensors"));
        expect(() -> open(converted), StandardErrorCode.MALFORMED_FILE, "layer_1.safetensors is listed in "
                + "dictionary.json but missing");
    }

    @Test
    void aFileOfAnotherSizeIsACorruptDirectory() throws IOException {
        Path converted = convertedPlt();
        Path file = converted.resolve("layer_2.safetensors");
        Files.write(file, new byte[] {0}, StandardOpenOption.APPEND);
        expect(() -> open(converted), StandardErrorCode.MALFORMED_FILE, "layer_2.safetensors has", "(truncated or "
                + "replaced)");
    }

    @Test
    void aChangedHeaderIsACorruptDirectory() throws IOException {
        Path converted = convertedPlt();
        Path file = converted.resolve("layer_0.safetensors");
        String content = Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1);
        Files.writeString(file, content.replace("\"format\":\"pt\"", "\"format\":\"np\""),
                java.nio.charset.StandardCharsets.ISO_8859_1);
        expect(() -> open(converted), StandardErrorCode.MALFORMED_FILE, "layer_0.safetensors has a header whose "
                + "SHA-256");
    }

    @Test
    void changedDataIsFoundByAFullVerification() {
        Path converted = convertedPlt();
        flipLastByte(converted.resolve("layer_1.safetensors"));
        open(converted).close(); // the default check reads headers only
        expect(() -> new NativeFormatProvider().create(new DictionarySource(converted, false, true,
                Map.of("verify", "full"))), StandardErrorCode.MALFORMED_FILE, "layer_1.safetensors has CRC32C");
    }

    @Test
    void aNanThresholdIsAMalformedFileNamingTheFeature() {
        Path source = Synthetic.reference(dir.resolve("reference"), new Synthetic.Spec(false, true, false,
                Optional.empty()), 3);
        Path converted = dir.resolve("native");
        try (SparseDictionary original = Synthetic.openReference(source, false)) {
            NativeFormatWriter.write(original, converted);
        }
        Path file = converted.resolve("layer_0.safetensors");
        long offset;
        try (SafetensorsFile open = SafetensorsFile.open(file)) {
            offset = open.dataOffset() + open.info("threshold").dataBegin() + 5 * Float.BYTES;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, Float.NaN), offset);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        expect(() -> open(converted), StandardErrorCode.MALFORMED_FILE, "threshold of feature 5 is NaN");
    }

    @Test
    void manifestFieldsAreCheckedAndNamed() {
        Path converted = convertedPlt();
        String original = readManifest(converted);
        Map<UnaryOperator<String>, String> edits = Map.of(
                json -> json.replace("\"format\" : \"circuit-tracer-dictionary\"", "\"format\" : \"other\""),
                "format is 'other'",
                json -> json.replace("\"name\" : \"relu\"", "\"name\" : \"gelu\""), "activation.name is 'gelu'",
                json -> json.replace("\"kind\" : \"plt\"", "\"kind\" : \"tiled\""), "kind is 'tiled'",
                json -> json.replace("\"readSite\" : \"hook_resid_mid\"", "\"readSite\" : \"hook_mlp_out\""),
                "readSite is 'hook_mlp_out'",
                json -> json.replace("\"width\" : 16", "\"width\" : 17"), "W_enc F32 [32, 16]",
                json -> json.replace("\"layers\" : 3", "\"layers\" : 2"), "features must list 2 numbers",
                json -> json.replace("\"kind\" : \"plt\"", "\"kind\" : \"plt\", \"shards\" : 2"),
                "unknown field [shards]");
        for (Map.Entry<UnaryOperator<String>, String> edit : edits.entrySet()) {
            writeManifest(converted, edit.getKey().apply(original));
            expect(() -> open(converted), StandardErrorCode.MALFORMED_FILE, edit.getValue());
        }
    }

    @Test
    void unknownOptionsAreInvalidArguments() {
        Path converted = convertedPlt();
        expect(() -> new NativeFormatProvider().create(new DictionarySource(converted, false, true,
                Map.of("verify", "twice"))), StandardErrorCode.INVALID_ARGUMENT, "verify=twice");
        expect(() -> new NativeFormatProvider().create(new DictionarySource(converted, false, true,
                Map.of("lazy", "yes"))), StandardErrorCode.INVALID_ARGUMENT, "Unknown option [lazy]");
    }

    @Test
    void aForeignDictionaryJsonIsNotRecognized() throws IOException {
        Files.writeString(dir.resolve("dictionary.json"), "{\"format\": \"someone-elses\"}");
        assertThat(new NativeFormatProvider().recognize(dir).matches()).isFalse();
        Files.writeString(dir.resolve("dictionary.json"), "{\"format\": \"circuit-tracer-dictionary\", ");
        assertThat(new NativeFormatProvider().recognize(dir).matches()).as("a corrupt manifest is ours: reading it says why")
                .isTrue();
    }

    // ---------------------------------------------------------------- helpers

    private Path convertedPlt() {
        Path source = Synthetic.reference(dir.resolve("reference"), Synthetic.Spec.plt(), 7);
        Path converted = dir.resolve("native");
        try (SparseDictionary original = Synthetic.openReference(source, false)) {
            NativeFormatWriter.write(original, converted);
        }
        return converted;
    }

    private static SparseDictionary open(Path directory) {
        return new NativeFormatProvider().create(DictionarySource.of(directory));
    }

    private static String readManifest(Path directory) {
        try {
            return Files.readString(directory.resolve(Manifest.FILE_NAME));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeManifest(Path directory, String json) {
        try {
            Files.writeString(directory.resolve(Manifest.FILE_NAME), json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path editManifest(Path directory, UnaryOperator<String> edit) {
        String json = readManifest(directory);
        String edited = edit.apply(json);
        assertThat(edited).as("the edit applies").isNotEqualTo(json);
        writeManifest(directory, edited);
        return directory;
    }

    private static void delete(Path file) {
        try {
            Files.delete(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void flipLastByte(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            bytes[bytes.length - 1] ^= 0x40;
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void expect(ThrowableAssert.ThrowingCallable call, ErrorCode code, String... fragments) {
        assertThatThrownBy(call).isInstanceOfSatisfying(CircuitTracerException.class, e -> {
            assertThat(e.errorCode()).as(e.getMessage()).isEqualTo(code);
            for (String fragment : fragments) {
                assertThat(e.getMessage()).contains(fragment);
            }
        });
    }
}
