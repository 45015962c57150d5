package org.circuittracer.transcoders.community;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.testkit.SharedFixtures;
import org.circuittracer.transcoders.nativeformat.NativeFormatWriter;
import org.circuittracer.transcoders.reference.ReferencePerLayerProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Auto-detection: over the shared fixtures and a directory of every layout of every format, exactly one of the
 * registered providers (all of them are on this class path) recognises each, and it is the right one; directories of
 * no format are recognised by none.
 */
class FormatRecognitionTest {

    @TempDir
    Path dir;

    @Test
    void exactlyOneProviderRecognisesEachDictionaryDirectory() {
        List<DictionaryFormatProvider> providers = ServiceLoader.load(DictionaryFormatProvider.class).stream()
                .map(ServiceLoader.Provider::get).toList();
        assertThat(providers).extracting(DictionaryFormatProvider::name).contains("reference-plt", "reference-clt",
                "circuit-tracer-dictionary", "gemma-scope-npz", "gemma-scope-2", "saelens", "sparsify",
                "matching-pursuit");

        Map<Path, Optional<String>> expected = new LinkedHashMap<>();
        Path fixtures = SharedFixtures.resolve("tiny-transcoders");
        try (Stream<Path> sets = Files.list(fixtures)) {
            sets.filter(Files::isDirectory).sorted().forEach(set -> expected.put(set, Optional.of(
                    set.getFileName().toString().contains("-clt-") ? "reference-clt" : "reference-plt")));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        TranscoderWeights jump = TranscoderWeights.random(2, 8, 4, 1, true, false);
        TranscoderWeights plain = TranscoderWeights.random(2, 8, 4, 2, false, false);
        Path reference = FormatWriters.reference(dir.resolve("reference"), jump, SiteKind.RESID_MID, SiteKind.MLP_OUT,
                Optional.empty());
        expected.put(reference, Optional.of("reference-plt"));
        try (SparseDictionary d = new ReferencePerLayerProvider().create(DictionarySource.of(reference))) {
            NativeFormatWriter.write(d, dir.resolve("native"));
        }
        expected.put(dir.resolve("native"), Optional.of("circuit-tracer-dictionary"));
        for (FormatWriters.GemmaLayout layout : FormatWriters.GemmaLayout.values()) {
            expected.put(FormatWriters.gemmaPlain(dir.resolve("gemma-" + layout), jump, layout, false),
                    Optional.of("gemma-scope-npz"));
        }
        expected.put(FormatWriters.gemmaListed(dir.resolve("gemma-listed"), jump, SiteKind.LN2_NORMALIZED,
                SiteKind.MLP_OUT), Optional.of("gemma-scope-npz"));
        Path saeLens = FormatWriters.saeLens(dir.resolve("saelens"), jump, "jumprelu_transcoder", (l, c) -> { });
        expected.put(saeLens, Optional.of("saelens"));
        expected.put(saeLens.resolve("blocks.0.ln2.hook_normalized"), Optional.of("saelens"));
        expected.put(FormatWriters.sparsify(dir.resolve("sparsify"), plain, 2, (l, c) -> { }), Optional.of("sparsify"));
        // sparsify before 2025-02-12 (no transcode in cfg.json), and its clt branch (recognised, then refused)
        expected.put(FormatWriters.sparsify(dir.resolve("sparsify-pre-v1"), plain, 2, (l, c) -> {
            c.remove("transcode");
            c.remove("activation");
        }), Optional.of("sparsify"));
        expected.put(FormatWriters.sparsify(dir.resolve("sparsify-clt"), plain, 2, (l, c) -> c.put("n_targets", 2 - l)
                .put("n_sources", l + 1).put("coalesce_topk", "none")), Optional.of("sparsify"));
        TranscoderWeights jumpSkip = TranscoderWeights.random(2, 8, 4, 3, true, true);
        expected.put(FormatWriters.saeLens(dir.resolve("saelens-gemma-scope-2"), jumpSkip, "jumprelu_skip_transcoder",
                (l, c) -> ((com.fasterxml.jackson.databind.node.ObjectNode) c.get("metadata"))
                        .put("hook_name", "blocks." + l + ".hook_mlp_in")
                        .put("hf_hook_name", "model.layers." + l + ".pre_feedforward_layernorm.output")),
                Optional.of("saelens"));
        expected.put(FormatWriters.gemmaScope2(dir.resolve("gemma-scope-2"), jumpSkip,
                org.circuittracer.safetensors.DType.F32, (l, c) -> { }), Optional.of("gemma-scope-2"));
        expected.put(dir.resolve("gemma-scope-2/layer_0_width_16k_l0_small_affine"), Optional.of("gemma-scope-2"));
        Path pursuit = dir.resolve("matching-pursuit");
        FormatWriters.createDirectories(pursuit);
        FormatWriters.writeString(pursuit.resolve("matching-pursuit.json"), "{}");
        expected.put(pursuit, Optional.of("matching-pursuit"));

        Path empty = dir.resolve("empty");
        FormatWriters.createDirectories(empty);
        expected.put(empty, Optional.empty());
        expected.put(dir.resolve("absent"), Optional.empty());
        Path unrelated = dir.resolve("unrelated");
        FormatWriters.createDirectories(unrelated.resolve("layer_0"));
        FormatWriters.writeString(unrelated.resolve("config.yaml"), "model_kind: sparse_autoencoder\n");
        FormatWriters.writeString(unrelated.resolve("dictionary.json"), "{\"format\": \"other\"}");
        FormatWriters.writeString(unrelated.resolve("layer_0/notes.txt"), "not weights");
        expected.put(unrelated, Optional.empty());

        for (Map.Entry<Path, Optional<String>> entry : expected.entrySet()) {
            List<String> recognisers = providers.stream().filter(p -> p.recognize(entry.getKey()).matches())
                    .map(DictionaryFormatProvider::name).toList();
            assertThat(recognisers).as("providers recognising %s", entry.getKey())
                    .isEqualTo(entry.getValue().map(List::of).orElse(List.of()));
        }
    }
}
