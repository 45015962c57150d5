package org.circuittracer.dashboards.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPInputStream;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.export.FeatureIds;
import org.circuittracer.attribution.export.FeatureSchemaValidation;
import org.circuittracer.dashboards.CollectedDashboards;
import org.circuittracer.dashboards.Corpus;
import org.circuittracer.dashboards.DashboardFixtures;
import org.circuittracer.dashboards.DashboardListener;
import org.circuittracer.dashboards.DashboardOptions;
import org.circuittracer.dashboards.FeatureDashboard;
import org.circuittracer.dashboards.FeatureDashboards;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCategory;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Both layouts written, read back and checked byte by byte, against the schema, and broken on purpose. */
class DashboardFilesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static CollectedDashboards dashboards;
    private static JsonNode schema;

    @BeforeAll
    static void collect() throws IOException {
        try (TransformerModel model = TinyFixtures.openModel("llama");
             SparseDictionary dictionary = TinyFixtures.openDictionary("llama-plt-relu")) {
            dashboards = FeatureDashboards.collect(model, dictionary, Corpus.ofTokens(DashboardFixtures
                    .randomSequences(3, 25, 2, 12, model.config().vocabularySize(), true)),
                    DashboardOptions.defaults().withTopExamples(3).withContext(4, 2), DashboardListener.NONE);
        }
        try (InputStream in = DashboardFilesTest.class.getResourceAsStream(
                "/feature-format/neuronpedia-feature-details-schema.json")) {
            schema = JSON.readTree(in);
        }
    }

    @Test
    void packedLayoutRoundTripsWithCorrectByteRanges(@TempDir Path dir) throws IOException {
        DashboardWriter.Result result = DashboardWriter.write(dashboards, dir, DashboardLayout.PACKED,
                DashboardListener.NONE);
        JsonNode index;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(dir.resolve("index.json.gz")))) {
            index = JSON.readTree(in);
        }
        assertThat(index.get("scan").asText()).isEqualTo(dashboards.scan());
        long live = 0;
        DashboardReader reader = DashboardReader.open(dir);
        assertThat(reader.layout()).isEqualTo(DashboardLayout.PACKED);
        assertThat(reader.scan()).contains(dashboards.scan());
        assertThat(reader.layers()).containsExactly(0, 1, 2, 3);
        for (int l = 0; l < dashboards.layers(); l++) {
            JsonNode entry = index.get(Integer.toString(l));
            assertThat(entry.get("filename").asText()).isEqualTo("layer_" + l + ".bin");
            byte[] bin = Files.readAllBytes(dir.resolve(entry.get("filename").asText()));
            JsonNode offsets = entry.get("offsets");
            assertThat(offsets.size()).isEqualTo(dashboards.features(l) + 1);
            assertThat(offsets.get(0).asLong()).isZero();
            assertThat(offsets.get(offsets.size() - 1).asLong()).isEqualTo(bin.length);
            for (int f = 0; f < dashboards.features(l); f++) {
                int from = offsets.get(f).asInt();
                int to = offsets.get(f + 1).asInt();
                Optional<FeatureDashboard> expected = dashboards.dashboard(l, f);
                assertThat(reader.read(l, f)).isEqualTo(expected);
                assertThat(reader.read(FeatureIds.pair(l, f))).isEqualTo(expected);
                if (expected.isEmpty()) {
                    assertThat(to).as("zero-length record of a feature that never fired").isEqualTo(from);
                    assertThat(reader.recordJson(l, f)).isEmpty();
                    continue;
                }
                live++;
                int n = ByteBuffer.wrap(bin, from, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
                assertThat(to - from).isEqualTo(4 + n);
                assertThat(bin[from + 4] & 0xFF).isEqualTo(0x1F);
                assertThat(bin[from + 5] & 0xFF).isEqualTo(0x8B);
                byte[] json;
                try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(bin, from + 4, n))) {
                    json = in.readAllBytes();
                }
                assertThat(json).isEqualTo(FeatureJson.toBytes(expected.get()));
                assertThat(reader.recordJson(l, f)).hasValueSatisfying(raw -> assertThat(raw).isEqualTo(json));
                JsonNode node = JSON.readTree(json);
                assertThat(FeatureSchemaValidation.validate(schema, node)).isEmpty();
                assertThat(node.get("index").asLong()).isEqualTo(FeatureIds.pair(l, f));
                // the viewer's fetch asks for one byte more (inclusive HTTP range); the record still parses
                assertThat(Arrays.copyOfRange(bin, from, to)).isEqualTo(reader.record(l, f));
            }
        }
        assertThat(result.features()).isEqualTo(live).isPositive();
        JsonNode manifest = JSON.readTree(dir.resolve("dashboards.json").toFile());
        assertThat(manifest.get("layout").asText()).isEqualTo("packed");
        assertThat(manifest.get("corpus").get("tokens").asLong()).isEqualTo(dashboards.tokens());
    }

    @Test
    void jsonLayoutRoundTripsAndValidates(@TempDir Path dir) throws IOException {
        DashboardWriter.write(dashboards, dir, DashboardLayout.JSON, DashboardListener.NONE);
        DashboardReader reader = DashboardReader.open(dir);
        assertThat(reader.layout()).isEqualTo(DashboardLayout.JSON);
        int files = 0;
        for (int l = 0; l < dashboards.layers(); l++) {
            for (int f = 0; f < dashboards.features(l); f++) {
                Optional<FeatureDashboard> expected = dashboards.dashboard(l, f);
                Path file = dir.resolve(FeatureIds.pair(l, f) + ".json");
                assertThat(Files.exists(file)).isEqualTo(expected.isPresent());
                assertThat(reader.read(l, f)).isEqualTo(expected);
                if (expected.isPresent()) {
                    files++;
                    JsonNode node = JSON.readTree(file.toFile());
                    assertThat(FeatureSchemaValidation.validate(schema, node)).isEmpty();
                    assertThat(node.get("quantile_values")).hasSize(100);
                    assertThat(node.get("examples_quantiles").get(0).get("quantile_name").asText())
                            .isEqualTo("Top activations");
                }
            }
        }
        try (var list = Files.list(dir)) {
            assertThat(list.count()).isEqualTo(files + 1); // and dashboards.json
        }
    }

    @Test
    void theReferenceExampleValidatesAndParses() throws IOException {
        byte[] bytes;
        try (InputStream in = getClass().getResourceAsStream("/feature-format/example-feature.json")) {
            bytes = in.readAllBytes();
        }
        assertThat(FeatureSchemaValidation.validate(schema, JSON.readTree(bytes))).isEmpty();
        FeatureDashboard d = FeatureJson.parse(bytes, 1, 4012, "example-feature.json");
        assertThat(d.index()).isEqualTo(8058103L).isEqualTo(FeatureIds.pair(1, 4012));
        assertThat(FeatureIds.unpair(8058103L)).isEqualTo(new FeatureIds.LayerIndex(1, 4012));
        assertThat(d.groups()).hasSize(2);
        assertThat(d.groups().get(1).examples().get(1).repeated()).isTrue();
        assertThat(d.groups().get(1).examples().get(0).tokens()).contains("\\xe2\\x80");
        assertThat(d.quantileValues()).hasSize(100);
        assertThat(d.activationFrequency()).isEqualTo(0.00037);
        assertThat(d.actMax()).isEqualTo(14.82f);
    }

    @Test
    void rewritingSwitchesLayoutsAndRemovesStaleFiles(@TempDir Path dir) throws IOException {
        DashboardWriter.write(dashboards, dir, DashboardLayout.JSON, DashboardListener.NONE);
        DashboardWriter.write(dashboards, dir, DashboardLayout.PACKED, DashboardListener.NONE);
        try (var list = Files.list(dir)) {
            assertThat(list.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly(
                    "dashboards.json", "index.json.gz", "layer_0.bin", "layer_1.bin", "layer_2.bin", "layer_3.bin");
        }
        // a second packed run must not overwrite the layer files the current index points into
        DashboardWriter.write(dashboards, dir, DashboardLayout.PACKED, DashboardListener.NONE);
        try (var list = Files.list(dir)) {
            assertThat(list.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".bin")).sorted().toList())
                    .containsExactly("layer_0.1.bin", "layer_1.1.bin", "layer_2.1.bin", "layer_3.1.bin");
        }
        assertThat(DashboardReader.open(dir).read(1, firstLive(1))).isEqualTo(dashboards.dashboard(1, firstLive(1)));
        DashboardWriter.write(dashboards, dir, DashboardLayout.JSON, DashboardListener.NONE);
        assertThat(dir.resolve("index.json.gz")).doesNotExist();
        assertThat(DashboardReader.open(dir).layout()).isEqualTo(DashboardLayout.JSON);
    }

    @Test
    void zlibRecordsAndAPlainArrayIndexFromOtherWritersAreRead(@TempDir Path dir) throws IOException {
        int f = firstLive(0, 1);
        byte[] json = FeatureJson.toBytes(dashboards.dashboard(0, f).orElseThrow());
        ByteArrayOutputStream zlib = new ByteArrayOutputStream();
        try (DeflaterOutputStream out = new DeflaterOutputStream(zlib)) {
            out.write(json);
        }
        byte[] payload = zlib.toByteArray();
        ByteBuffer record = ByteBuffer.allocate(4 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        record.putInt(payload.length).put(payload);
        Files.write(dir.resolve("l0.bin"), record.array());
        long[] offsets = new long[f + 2];
        offsets[f + 1] = record.capacity();
        ByteArrayOutputStream zindex = new ByteArrayOutputStream();
        try (DeflaterOutputStream out = new DeflaterOutputStream(zindex)) {
            out.write(JSON.writeValueAsBytes(List.of(java.util.Map.of("filename", "l0.bin", "offsets", offsets))));
        }
        Files.write(dir.resolve("index.json.gz"), zindex.toByteArray());
        DashboardReader reader = DashboardReader.open(dir);
        assertThat(reader.scan()).isEmpty();
        assertThat(reader.read(0, f)).isEqualTo(dashboards.dashboard(0, f));
        assertThat(reader.read(0, 0)).isEmpty();
    }

    @Test
    void brokenAndMissingFilesGiveUserErrorsThatNameTheFile(@TempDir Path dir) throws IOException {
        Path packed = dir.resolve("packed");
        DashboardWriter.write(dashboards, packed, DashboardLayout.PACKED, DashboardListener.NONE);
        int f = firstLive(2);
        Path bin = packed.resolve("layer_2.bin");
        byte[] bytes = Files.readAllBytes(bin);
        DashboardReader reader = DashboardReader.open(packed);
        int recordLength = reader.record(2, f).length;
        byte[] corrupted = bytes.clone();
        int start = offset(packed, 2, f);
        corrupted[start + 4] ^= 0x55; // the gzip magic
        Files.write(bin, corrupted);
        expect(() -> reader.read(2, f), StandardErrorCode.MALFORMED_FILE, "layer_2.bin", "feature " + f);
        Files.write(bin, Arrays.copyOf(bytes, start + 2));
        expect(() -> reader.read(2, f), StandardErrorCode.MALFORMED_FILE, "layer_2.bin");
        ByteBuffer.wrap(bytes, start, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(recordLength + 100);
        Files.write(bin, bytes);
        expect(() -> reader.read(2, f), StandardErrorCode.MALFORMED_FILE, "payload");
        Files.delete(bin);
        expect(() -> reader.read(2, f), StandardErrorCode.FILE_NOT_FOUND, "layer_2.bin", "incomplete");
        expect(() -> reader.read(7, 0), StandardErrorCode.INVALID_ARGUMENT, "Layer 7");
        expect(() -> reader.read(0, 100_000), StandardErrorCode.INVALID_ARGUMENT, "Feature 100000");
        Files.write(packed.resolve("index.json.gz"), "not compressed".getBytes());
        expect(() -> DashboardReader.open(packed), StandardErrorCode.MALFORMED_FILE, "index.json.gz");
        Files.delete(packed.resolve("index.json.gz"));
        expect(() -> DashboardReader.open(packed), StandardErrorCode.FILE_NOT_FOUND, "index.json.gz");

        Path json = dir.resolve("json");
        DashboardWriter.write(dashboards, json, DashboardLayout.JSON, DashboardListener.NONE);
        Path file = json.resolve(FeatureIds.pair(2, f) + ".json");
        Files.writeString(file, "{\"index\": 1, \"examples_quantiles\": [{\"quantile_name\": \"x\", \"examples\": "
                + "[{\"tokens\": [\"a\"], \"tokens_acts_list\": [1, 2]}]}]}");
        expect(() -> DashboardReader.open(json).read(2, f), StandardErrorCode.MALFORMED_FILE, file.toString(),
                "1 tokens but 2 activations");
        Files.writeString(file, "{\"examples_quantiles\": []}");
        expect(() -> DashboardReader.open(json).read(2, f), StandardErrorCode.MALFORMED_FILE, "\"index\"");
        Files.writeString(file, "{oops");
        expect(() -> DashboardReader.open(json).read(2, f), StandardErrorCode.MALFORMED_FILE, "not JSON");
        Files.delete(file);
        expect(() -> DashboardReader.open(json).read(2, f), StandardErrorCode.FILE_NOT_FOUND, "missing");
        Files.writeString(json.resolve("dashboards.json"), "{\"format\": \"circuit-tracer-feature-dashboards\", "
                + "\"format_version\": 9, \"layout\": \"json\"}");
        expect(() -> DashboardReader.open(json), StandardErrorCode.UNSUPPORTED_FORMAT_VERSION, "version 9");

        expect(() -> DashboardReader.open(dir.resolve("absent")), StandardErrorCode.FILE_NOT_FOUND, "does not exist");
        Path foreign = Files.createDirectories(dir.resolve("foreign"));
        Files.writeString(foreign.resolve("notes.txt"), "mine");
        expect(() -> DashboardReader.open(foreign), StandardErrorCode.FILE_NOT_FOUND, "holds no feature dashboards");
        expect(() -> DashboardWriter.write(dashboards, foreign, DashboardLayout.JSON, DashboardListener.NONE),
                StandardErrorCode.INVALID_ARGUMENT, "not empty");
        assertThat(foreign.resolve("notes.txt")).exists();
    }

    @Test
    void layerFilesLinkedFromOutsideAndIdsBeyondAnyDictionaryAreRefused(@TempDir Path dir) throws IOException {
        Path packed = dir.resolve("packed");
        DashboardWriter.write(dashboards, packed, DashboardLayout.PACKED, DashboardListener.NONE);
        expect(() -> DashboardReader.open(packed).read(FeatureIds.pair(1, Integer.MAX_VALUE + 1L)),
                StandardErrorCode.INVALID_ARGUMENT, "beyond any dictionary");
        Path outside = Files.move(packed.resolve("layer_1.bin"), dir.resolve("elsewhere.bin"));
        Files.createSymbolicLink(packed.resolve("layer_1.bin"), outside);
        expect(() -> DashboardReader.open(packed), StandardErrorCode.MALFORMED_FILE, "index.json.gz", "layer 1");
    }

    private static int offset(Path dir, int layer, int feature) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(dir.resolve("index.json.gz")))) {
            return JSON.readTree(in).get(Integer.toString(layer)).get("offsets").get(feature).asInt();
        }
    }

    private static int firstLive(int layer) {
        return firstLive(layer, 0);
    }

    private static int firstLive(int layer, int from) {
        for (int f = from; ; f++) {
            if (dashboards.activations(layer, f) > 0) {
                return f;
            }
        }
    }

    private static void expect(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, StandardErrorCode code,
                               String... fragments) {
        assertThatThrownBy(call).isInstanceOfSatisfying(CircuitTracerException.class, e -> {
            assertThat(e.errorCode()).isEqualTo(code);
            assertThat(e.category()).isEqualTo(ErrorCategory.USER_ERROR);
            assertThat(e.getMessage()).contains(fragments);
        });
    }
}
