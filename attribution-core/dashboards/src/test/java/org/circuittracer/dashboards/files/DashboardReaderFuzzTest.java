package org.circuittracer.dashboards.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.export.FeatureIds;
import org.circuittracer.dashboards.CollectedDashboards;
import org.circuittracer.dashboards.Corpus;
import org.circuittracer.dashboards.DashboardFixtures;
import org.circuittracer.dashboards.DashboardListener;
import org.circuittracer.dashboards.DashboardOptions;
import org.circuittracer.dashboards.FeatureDashboards;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Feature files ({@link DashboardReader}): the packed index, a packed layer file, the manifest and a per-feature JSON
 * file, each mutated in an otherwise valid directory that is then opened and read through. Whole-directory loads
 * run a share of {@code -Dfuzz.cases}: 20% (1,000 cases by default), 10% for the layer file (500). docs/develop/fuzzing.md.
 */
class DashboardReaderFuzzTest {

    @TempDir
    static Path seeds;
    private static Path packed;
    private static Path json;

    @BeforeAll
    static void writeBothLayouts() {
        CollectedDashboards dashboards;
        try (TransformerModel model = TinyFixtures.openModel("llama");
             SparseDictionary dictionary = TinyFixtures.openDictionary("llama-plt-relu")) {
            dashboards = FeatureDashboards.collect(model, dictionary, Corpus.ofTokens(DashboardFixtures
                    .randomSequences(3, 25, 2, 12, model.config().vocabularySize(), true)),
                    DashboardOptions.defaults().withTopExamples(2).withContext(3, 1), DashboardListener.NONE);
        }
        packed = seeds.resolve("packed");
        json = seeds.resolve("json");
        DashboardWriter.write(dashboards, packed, DashboardLayout.PACKED, DashboardListener.NONE);
        DashboardWriter.write(dashboards, json, DashboardLayout.JSON, DashboardListener.NONE);
    }

    /** Opens {@code dir} and reads the first 8 features of every layer (all of layer 0's when {@code all0}). */
    private static void readThrough(Path dir, boolean all0) {
        DashboardReader reader = DashboardReader.open(dir);
        reader.scan();
        for (int layer : reader.layers()) {
            int features = reader.features(layer);
            for (int f = 0; f < Math.min(features, all0 && layer == 0 ? Integer.MAX_VALUE : 8); f++) {
                reader.read(layer, f);
                reader.read(FeatureIds.pair(layer, f));
            }
        }
    }

    /** Copies {@code from} into {@code to} except {@code skip}. */
    private static void copyExcept(Path from, Path to, String skip) throws IOException {
        try (Stream<Path> files = Files.list(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                if (!p.getFileName().toString().equals(skip)) {
                    Files.copy(p, to.resolve(p.getFileName()));
                }
            }
        }
    }

    private static byte[] gunzip(Path file) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return in.readAllBytes();
        }
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    @Test
    void mutatedPackedIndexesOpenOrFailWithCircuitTracerException() throws IOException {
        byte[] index = gunzip(packed.resolve(DashboardWriter.INDEX));
        Fuzzer.Result r = Fuzzer.named("dashboards index.json.gz").text().seeds(List.of(index)).share(0.2)
                .watchFiles().strings(List.of("filename", "offsets", "scan", "layer_0.bin", "../outside.txt"))
                .run((input, dir) -> {
                    copyExcept(packed, dir, DashboardWriter.INDEX);
                    // plain JSON half the time (the reader accepts it), gzip otherwise
                    Files.write(dir.resolve(DashboardWriter.INDEX), input.length % 2 == 0 ? input : gzip(input));
                    readThrough(dir, false);
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }

    @Test
    void mutatedPackedLayerFilesReadOrFailWithCircuitTracerException() throws IOException {
        byte[] layer = Files.readAllBytes(packed.resolve("layer_0.bin"));
        Fuzzer.Result r = Fuzzer.named("dashboards layer_0.bin").seeds(List.of(layer)).share(0.1)
                .run((input, dir) -> {
                    copyExcept(packed, dir, "layer_0.bin");
                    Files.write(dir.resolve("layer_0.bin"), input);
                    readThrough(dir, true);
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }

    @Test
    void mutatedManifestsOpenOrFailWithCircuitTracerException() throws IOException {
        List<byte[]> manifests = new ArrayList<>();
        manifests.add(Files.readAllBytes(json.resolve(DashboardWriter.MANIFEST)));
        manifests.add(Files.readAllBytes(packed.resolve(DashboardWriter.MANIFEST)));
        Fuzzer.Result r = Fuzzer.named("dashboards.json").text().seeds(manifests).share(0.2)
                .strings(List.of("packed", "json", "layers", "inactive", "features", "formatVersion"))
                .run((input, dir) -> {
                    copyExcept(packed, dir, DashboardWriter.MANIFEST);
                    Path jsonDir = Files.createDirectory(dir.resolve("json"));
                    Files.copy(json.resolve(DashboardWriter.MANIFEST), jsonDir.resolve(DashboardWriter.MANIFEST));
                    Files.write(dir.resolve(DashboardWriter.MANIFEST), input);
                    Files.write(jsonDir.resolve(DashboardWriter.MANIFEST), input);
                    try {
                        readThrough(dir, false);
                    } finally {
                        readThrough(jsonDir, false);
                    }
                });
        r.assertSomeRejected();
    }

    @Test
    void mutatedFeatureFilesReadOrFailWithCircuitTracerException() throws IOException {
        List<byte[]> features = new ArrayList<>();
        try (Stream<Path> files = Files.list(json)) {
            files.filter(p -> !p.getFileName().toString().equals(DashboardWriter.MANIFEST)).sorted().limit(3)
                    .forEach(p -> {
                        try {
                            features.add(Files.readAllBytes(p));
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
        }
        long first = FeatureIds.pair(0, 0);
        Fuzzer.Result r = Fuzzer.named("feature JSON").text().seeds(features)
                .strings(List.of("index", "layer", "activations", "tokens", "values", "maxValue"))
                .run((input, dir) -> {
                    Files.copy(json.resolve(DashboardWriter.MANIFEST), dir.resolve(DashboardWriter.MANIFEST));
                    Files.write(dir.resolve(first + ".json"), input);
                    DashboardReader.open(dir).read(0, 0);
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }

    /**
     * Found by the fuzzer (a {@code -Pfuzz} run, case 1326 of the indexes): a layer file name that no path of this file
     * system can hold (a lone surrogate, a NUL) threw {@code InvalidPathException}; it is MALFORMED_FILE like any name
     * outside the directory.
     */
    @Test
    void aLayerFileNameNoPathCanHoldIsMalformed(@TempDir Path dir) throws IOException {
        String index = new String(gunzip(packed.resolve(DashboardWriter.INDEX)), StandardCharsets.UTF_8);
        assertThat(index).contains("\"layer_0.bin\"");
        for (String bad : List.of("\\ud800.bin", "a\\u0000b.bin")) { // JSON escapes
            Path d = Files.createDirectory(dir.resolve("case" + bad.length()));
            copyExcept(packed, d, DashboardWriter.INDEX);
            Files.write(d.resolve(DashboardWriter.INDEX), gzip(index.replace("\"layer_0.bin\"", "\"" + bad + "\"")
                    .getBytes(StandardCharsets.UTF_8)));
            assertThatThrownBy(() -> DashboardReader.open(d)).as(bad)
                    .isInstanceOfSatisfying(CircuitTracerException.class, e -> {
                        assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE);
                        assertThat(e.getMessage()).contains("gives layer 0 the file name");
                    });
        }
    }

    /**
     * Found by the fuzzer (a {@code -Pfuzz} run, case 2768 of the manifests): an inactive feature of -1 reached
     * {@code BitSet.set} ({@code IndexOutOfBoundsException}); one past the layer's features, up to 2^31 - 1, would have
     * allocated a bit set of that size. Both, and a fractional one, are MALFORMED_FILE naming the layer.
     */
    @Test
    void inactiveFeaturesOutsideTheLayerAreMalformed(@TempDir Path dir) throws IOException {
        for (String bad : List.of("-1", "128", "2147483647", "1.5")) {
            ObjectNode manifest = (ObjectNode) FeatureJson.MAPPER.readTree(json.resolve(DashboardWriter.MANIFEST)
                    .toFile());
            JsonNode layer = manifest.get("layers").get(2);
            assertThat(layer.get("features").asInt()).isEqualTo(128);
            ((ArrayNode) layer.get("inactive")).add(FeatureJson.MAPPER.readTree(bad));
            Files.write(dir.resolve(DashboardWriter.MANIFEST), FeatureJson.MAPPER.writeValueAsBytes(manifest));
            assertThatThrownBy(() -> DashboardReader.open(dir)).as(bad)
                    .isInstanceOfSatisfying(CircuitTracerException.class, e -> {
                        assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE);
                        assertThat(e.getMessage()).contains("layer 2 lists " + bad, "numbered 0 to 127");
                    });
        }
    }

    /** Found by the fuzzer (a {@code -Pfuzz} run, case 33947 of the manifests): "layers" an object, not a list. */
    @Test
    void layersThatAreNoListAreMalformed(@TempDir Path dir) throws IOException {
        for (String layers : List.of("{\"a\": [[1]]}", "3", "null")) {
            ObjectNode manifest = (ObjectNode) FeatureJson.MAPPER.readTree(json.resolve(DashboardWriter.MANIFEST)
                    .toFile());
            manifest.set("layers", FeatureJson.MAPPER.readTree(layers));
            Files.write(dir.resolve(DashboardWriter.MANIFEST), FeatureJson.MAPPER.writeValueAsBytes(manifest));
            assertThatThrownBy(() -> DashboardReader.open(dir)).as(layers)
                    .isInstanceOfSatisfying(CircuitTracerException.class, e -> {
                        assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE);
                        assertThat(e.getMessage()).contains("has no \"layers\" list");
                    });
        }
    }
}
