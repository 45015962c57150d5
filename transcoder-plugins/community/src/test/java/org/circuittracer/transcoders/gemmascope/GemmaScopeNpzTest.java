package org.circuittracer.transcoders.gemmascope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.assertj.core.api.ThrowableAssert;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCode;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.DictionaryCapability;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.community.FormatWriters;
import org.circuittracer.transcoders.community.NpzWriter;
import org.circuittracer.transcoders.community.SameComputation;
import org.circuittracer.transcoders.community.TranscoderWeights;
import org.circuittracer.transcoders.nativeformat.NativeFormatProvider;
import org.circuittracer.transcoders.nativeformat.NativeFormatWriter;
import org.circuittracer.transcoders.reference.ReferencePerLayerProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GemmaScope files compute what the same weights compute in the reference format; bad sets fail clearly. */
class GemmaScopeNpzTest {

    private static final TranscoderWeights WEIGHTS = TranscoderWeights.random(3, 32, 16, 5, true, false);

    @TempDir
    Path dir;

    @Test
    void everyLayoutComputesWhatTheReferenceFormatComputes() {
        Path reference = FormatWriters.reference(dir.resolve("reference"), WEIGHTS, SiteKind.LN2_NORMALIZED,
                SiteKind.MLP_OUT, Optional.empty());
        try (SparseDictionary expected = new ReferencePerLayerProvider().create(DictionarySource.of(reference))) {
            for (FormatWriters.GemmaLayout layout : FormatWriters.GemmaLayout.values()) {
                Path gemma = FormatWriters.gemmaPlain(dir.resolve(layout.name()), WEIGHTS, layout, false);
                try (SparseDictionary actual = open(gemma)) {
                    assertThat(actual.capabilities()).as("loaded eagerly").doesNotContain(
                            DictionaryCapability.LAZY_DECODER, DictionaryCapability.LAZY_ENCODER,
                            DictionaryCapability.WRITABLE);
                    SameComputation.assertSame(expected, actual);
                }
            }
            Path listed = FormatWriters.gemmaListed(dir.resolve("listed"), WEIGHTS, SiteKind.LN2_NORMALIZED,
                    SiteKind.MLP_OUT);
            try (SparseDictionary actual = open(listed)) {
                assertThat(actual.scan()).isEqualTo("synthetic/gemma");
                SameComputation.assertSame(expected, actual);
            }
        }
    }

    @Test
    void convertedToTheCircuitTracerFormatItLoadsLazilyWithTheSameResults() {
        Path gemma = FormatWriters.gemmaPlain(dir.resolve("gemma"), WEIGHTS, FormatWriters.GemmaLayout.DIRECTORY, true);
        try (SparseDictionary original = open(gemma)) {
            NativeFormatWriter.write(original, dir.resolve("converted"));
            try (SparseDictionary converted = new NativeFormatProvider().create(DictionarySource.of(
                    dir.resolve("converted")))) {
                assertThat(converted.capabilities()).contains(DictionaryCapability.LAZY_DECODER);
                SameComputation.assertSame(original, converted);
            }
        }
    }

    @Test
    void theSitesOfAPlainLayoutDefaultToGemmaScopesAndCanBeChosen() {
        Path gemma = FormatWriters.gemmaPlain(dir.resolve("gemma"), WEIGHTS, FormatWriters.GemmaLayout.FLAT, false);
        try (SparseDictionary d = open(gemma)) {
            assertThat(d.readSite()).isEqualTo(SiteKind.LN2_NORMALIZED);
            assertThat(d.writeSite()).isEqualTo(SiteKind.MLP_OUT);
            assertThat(d.scan()).isEqualTo(gemma.toAbsolutePath().toString());
        }
        try (SparseDictionary d = new GemmaScopeNpzProvider().create(new DictionarySource(gemma, false, true,
                Map.of("readSite", "hook_resid_mid", "writeSite", "mlp.hook_out", "scan", "gemma-2-2b/transcoders")))) {
            assertThat(d.readSite()).isEqualTo(SiteKind.RESID_MID);
            assertThat(d.writeSite()).isEqualTo(SiteKind.MLP_OUT_RAW);
            assertThat(d.scan()).isEqualTo("gemma-2-2b/transcoders");
        }
        expect(() -> new GemmaScopeNpzProvider().create(new DictionarySource(gemma, false, true,
                Map.of("writeSite", "hook_resid_mid"))), StandardErrorCode.INVALID_ARGUMENT,
                "writeSite=hook_resid_mid");
    }

    @Test
    void badSetsFailNamingTheFileAndWhatIsWrong() {
        Path missingLayer = FormatWriters.gemmaPlain(dir.resolve("missing"), WEIGHTS, FormatWriters.GemmaLayout.FLAT,
                false);
        FormatWriters.delete(missingLayer.resolve("layer_1.npz"));
        expect(() -> open(missingLayer), StandardErrorCode.MALFORMED_FILE, "layer 1 has none");

        Path twoWidths = FormatWriters.gemmaPlain(dir.resolve("two"), WEIGHTS, FormatWriters.GemmaLayout.RELEASE,
                false);
        FormatWriters.createDirectories(twoWidths.resolve("layer_2/width_65k/average_l0_9"));
        NpzWriter.npz(twoWidths.resolve("layer_2/width_65k/average_l0_9/params.npz"),
                FormatWriters.gemmaArrays(WEIGHTS, 2), false);
        expect(() -> open(twoWidths), StandardErrorCode.MALFORMED_FILE, "holds 2 params.npz files", "config.yaml");

        Path wrongShape = FormatWriters.gemmaPlain(dir.resolve("shape"), WEIGHTS, FormatWriters.GemmaLayout.FLAT,
                false);
        Map<String, NpzWriter.Array> arrays = new java.util.LinkedHashMap<>(FormatWriters.gemmaArrays(WEIGHTS, 1));
        arrays.put("W_enc", NpzWriter.Array.f32(new long[] {32, 16}, WEIGHTS.layers().get(1).wEnc())); // not [d, F]
        NpzWriter.npz(wrongShape.resolve("layer_1.npz"), arrays, false);
        expect(() -> open(wrongShape), StandardErrorCode.MALFORMED_FILE, "layer_1.npz has W_enc [32, 16]; expected "
                + "[16, 32]");

        Path nan = FormatWriters.gemmaPlain(dir.resolve("nan"), WEIGHTS, FormatWriters.GemmaLayout.FLAT, false);
        Map<String, NpzWriter.Array> withNan = new java.util.LinkedHashMap<>(FormatWriters.gemmaArrays(WEIGHTS, 0));
        float[] theta = WEIGHTS.layers().get(0).threshold().orElseThrow().clone();
        theta[3] = Float.NaN;
        withNan.put("threshold", NpzWriter.Array.f32(new long[] {32}, theta));
        NpzWriter.npz(nan.resolve("layer_0.npz"), withNan, false);
        expect(() -> open(nan), StandardErrorCode.MALFORMED_FILE, "threshold of feature 3 is NaN");

        Path noThreshold = FormatWriters.gemmaPlain(dir.resolve("nothreshold"), WEIGHTS, FormatWriters.GemmaLayout.FLAT,
                false);
        Map<String, NpzWriter.Array> missing = new java.util.LinkedHashMap<>(FormatWriters.gemmaArrays(WEIGHTS, 0));
        missing.remove("threshold");
        NpzWriter.npz(noThreshold.resolve("layer_0.npz"), missing, false);
        expect(() -> open(noThreshold), StandardErrorCode.MALFORMED_FILE, "has no tensor threshold");

        Path listed = FormatWriters.gemmaListed(dir.resolve("listed"), WEIGHTS, SiteKind.LN2_NORMALIZED,
                SiteKind.MLP_OUT);
        FormatWriters.delete(listed.resolve("layer_1/width_16k/average_l0_41/params.npz"));
        expect(() -> open(listed), StandardErrorCode.FILE_NOT_FOUND, "transcoders[1]");
        NpzWriter.npz(listed.resolve("layer_1/width_16k/average_l0_41/params.npz"), FormatWriters.gemmaArrays(WEIGHTS,
                1), false);
        String config = FormatWriters.readString(listed.resolve("config.yaml"));
        FormatWriters.writeString(listed.resolve("config.yaml"), config + "activation: relu\n");
        expect(() -> open(listed), StandardErrorCode.MALFORMED_FILE, "GemmaScope transcoders are JumpReLU");
        FormatWriters.writeString(listed.resolve("config.yaml"), config + "activation: topk\n");
        expect(() -> open(listed), StandardErrorCode.MALFORMED_FILE, "activation is topk");
        FormatWriters.writeString(listed.resolve("config.yaml"), config + "activation: jumprelu\n");
        open(listed).close(); // names what the thresholds do: accepted
        FormatWriters.writeString(listed.resolve("config.yaml"), config.replace("  - layer_1/width_16k/average_l0_41/",
                "  - hf://google/gemma-scope-2b-pt-transcoders/layer_1/width_16k/average_l0_41/"));
        expect(() -> open(listed), StandardErrorCode.MALFORMED_FILE, "remote reference");
    }

    private static SparseDictionary open(Path directory) {
        return new GemmaScopeNpzProvider().create(DictionarySource.of(directory));
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
