package org.circuittracer.backend.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.circuittracer.onnx.export.OnnxExporter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.Precision;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening exports: external data, user site maps, capabilities, and clear errors for bad input. */
class OpeningModelsTest {

    @TempDir
    Path temp;

    private final OnnxBackendProvider provider = new OnnxBackendProvider();

    @Test
    void weightsInExternalDataGiveTheSameModel() throws IOException {
        Path target = temp.resolve("external");
        try (NDManager manager = NDManager.newBaseManager()) {
            OnnxExporter.export(TinyOnnxModels.source("llama"), target, new OnnxExporter.Options(true), manager);
        }
        assertThat(target.resolve(OnnxExporter.EXTERNAL_DATA)).isRegularFile();
        assertThat(Files.size(target.resolve("model.onnx"))).isLessThan(Files.size(target.resolve(
                OnnxExporter.EXTERNAL_DATA)));
        assertThat(target.resolve("tokenizer.json")).isRegularFile();
        TokenSequence prompt = TinyOnnxModels.prompt("llama", 1);
        try (TransformerModel external = provider.create(ModelSource.of(target));
             TransformerModel inline = TinyOnnxModels.onnx("llama");
             NDManager manager = NDManager.newBaseManager()) {
            assertThat(external.forward(manager, prompt, List.of()).logits().toFloatArray())
                    .containsExactly(inline.forward(manager, prompt, List.of()).logits().toFloatArray());
            assertThat(external.unembeddingVectors(manager, new int[] {5}).toFloatArray())
                    .containsExactly(inline.unembeddingVectors(manager, new int[] {5}).toFloatArray());
        }
    }

    @Test
    void theProviderClaimsExportsOfKnownArchitecturesOnly() {
        assertThat(provider.recognize(TinyOnnxModels.exported("gemma2")).matches()).isTrue();
        assertThat(provider.recognize(TinyOnnxModels.source("gemma2")).matches()).as("no model.onnx").isFalse();
    }

    @Test
    void otherArchitecturesOpenWithAUserSiteMap() throws IOException {
        Path model = copyExport("llama", temp.resolve("custom"));
        Path config = model.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("LlamaForCausalLM", "MyDecoderForCausalLM"));
        assertThatThrownBy(() -> provider.create(ModelSource.of(model)))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.UNSUPPORTED_ARCHITECTURE))
                .hasMessageContaining("MyDecoderForCausalLM").hasMessageContaining("site-map");
        Path map = temp.resolve("map.json");
        try (var in = getClass().getResourceAsStream("/org/circuittracer/backend/onnx/sitemaps/llama.json")) {
            Files.copy(in, map);
        }
        TokenSequence prompt = TinyOnnxModels.prompt("llama", 0);
        try (TransformerModel custom = provider.create(new ModelSource(model, Precision.FLOAT32, "cpu",
                Map.of("site-map", map.toString(), "threads", "1")));
             TransformerModel llama = TinyOnnxModels.onnx("llama");
             NDManager manager = NDManager.newBaseManager()) {
            assertThat(custom.config().architecture()).isEqualTo("MyDecoderForCausalLM");
            assertThat(custom.config().layers()).isEqualTo(llama.config().layers());
            // everything but QK attribution, which needs the architecture's attention settings
            assertThat(custom.capabilities()).isEqualTo(llama.capabilities().stream()
                    .filter(c -> c != BackendCapability.QK_ATTRIBUTION).collect(java.util.stream.Collectors.toSet()));
            assertThat(custom.forward(manager, prompt, List.of()).logits().toFloatArray())
                    .containsExactly(llama.forward(manager, prompt, List.of()).logits().toFloatArray());
        }
    }

    @Test
    void aSiteMapThatFindsNothingOrIsMalformedIsAClearError() throws IOException {
        Path map = temp.resolve("wrong.json");
        Files.writeString(map, "{\"sites\": {\"blocks.{L}.hook_resid_mid\": {\"node\": \"/nowhere/{L}/Add\"}}}");
        expect(StandardErrorCode.MALFORMED_FILE, "finds no site", () -> provider.create(new ModelSource(
                TinyOnnxModels.exported("gpt2"), Precision.FLOAT32, "auto", Map.of("site-map", map.toString()))));
        Files.writeString(map, "{\"sites\": {\"blocks.{L}.hook_resid_middle\": {\"node\": \"x\"}}}");
        expect(StandardErrorCode.MALFORMED_FILE, "hook_resid_middle", () -> provider.create(new ModelSource(
                TinyOnnxModels.exported("gpt2"), Precision.FLOAT32, "auto", Map.of("site-map", map.toString()))));
        expect(StandardErrorCode.FILE_NOT_FOUND, "absent.json", () -> provider.create(new ModelSource(
                TinyOnnxModels.exported("gpt2"), Precision.FLOAT32, "auto",
                Map.of("site-map", temp.resolve("absent.json").toString()))));
    }

    /** The built-in site maps locate what head loadings and QK attribution need on every fixture architecture. */
    @Test
    void exportsOfEveryFixtureArchitectureSplitEdgesAndScores() {
        for (String architecture : TinyOnnxModels.ARCHITECTURES) {
            try (TransformerModel model = provider.create(ModelSource.of(TinyOnnxModels.exported(architecture)))) {
                assertThat(model.capabilities()).as(architecture).contains(BackendCapability.VJP,
                        BackendCapability.HEAD_LOADINGS, BackendCapability.QK_ATTRIBUTION);
            }
        }
    }

    @Test
    void aPartialSiteMapGivesAModelWithFewerCapabilities() throws IOException {
        Path map = temp.resolve("partial.json");
        Files.writeString(map, "{\"norm\": \"rms\", \"sites\": {\"blocks.{L}.hook_resid_mid\": "
                + "{\"node\": \"/model/layers.{L}/Add\"}}}");
        try (TransformerModel model = provider.create(new ModelSource(TinyOnnxModels.exported("qwen3"),
                Precision.FLOAT32, "auto", Map.of("site-map", map.toString())));
             NDManager manager = NDManager.newBaseManager()) {
            assertThat(model.sites()).hasSize(model.config().layers());
            assertThat(model.capabilities()).contains(BackendCapability.HOOKS, BackendCapability.KV_CACHE)
                    .doesNotContain(BackendCapability.VJP, BackendCapability.UNEMBEDDING, BackendCapability.QK_ATTRIBUTION,
                            BackendCapability.FREEZE_ATTENTION);
            TokenSequence prompt = TokenSequence.of(0, 1, 2);
            expect(StandardErrorCode.MISSING_CAPABILITY, "does not support VJP", () -> model.linearize(manager,
                    prompt, new org.circuittracer.spi.model.LinearizationSpec(SiteKind.RESID_MID, SiteKind.MLP_OUT,
                            Map.of())));
            expect(StandardErrorCode.INVALID_ARGUMENT, "blocks.L.hook_resid_mid", () -> model.forward(manager, prompt,
                    List.of(new Hook.Capture(HookSite.of(SiteKind.MLP_IN, 0)))));
        }
    }

    @Test
    void whatTheBackendLacksFailsUpFrontWithTheStandardError() {
        Path gpt2 = TinyOnnxModels.exported("gpt2");
        expect(StandardErrorCode.MISSING_CAPABILITY, "does not support FLOAT16", () -> provider.create(
                new ModelSource(gpt2, Precision.FLOAT16, "auto", Map.of())));
        if (!provider.capabilities().contains(BackendCapability.CUDA)) {
            expect(StandardErrorCode.MISSING_CAPABILITY, "does not support CUDA", () -> provider.create(
                    new ModelSource(gpt2, Precision.FLOAT32, "cuda:0", Map.of())));
        }
        try (TransformerModel model = provider.create(ModelSource.of(gpt2));
             NDManager manager = NDManager.newBaseManager()) {
            assertThat(model.capabilities()).isSubsetOf(provider.capabilities())
                    .doesNotContain(BackendCapability.FUNCTION_HOOKS);
            expect(StandardErrorCode.MISSING_CAPABILITY, "does not support FUNCTION_HOOKS", () -> model.forward(
                    manager, TokenSequence.of(0, 1), List.of(new Hook.Transform(HookSite.of(SiteKind.MLP_OUT, 0),
                            x -> x))));
        }
        expect(StandardErrorCode.INVALID_ARGUMENT, "unknown", () -> provider.create(new ModelSource(gpt2,
                Precision.FLOAT32, "auto", Map.of("unknown", "1"))));
        expect(StandardErrorCode.INVALID_ARGUMENT, "threads", () -> provider.create(new ModelSource(gpt2,
                Precision.FLOAT32, "auto", Map.of("threads", "none"))));
        expect(StandardErrorCode.INVALID_ARGUMENT, "tpu", () -> provider.create(new ModelSource(gpt2,
                Precision.FLOAT32, "tpu", Map.of())));
    }

    @Test
    void brokenDirectoriesAreClearUserErrors() throws IOException {
        Path noModel = temp.resolve("no-model");
        Files.createDirectories(noModel);
        Files.copy(TinyOnnxModels.source("gpt2").resolve("config.json"), noModel.resolve("config.json"));
        expect(StandardErrorCode.FILE_NOT_FOUND, "model.onnx", () -> provider.create(ModelSource.of(noModel)));

        Path garbage = copyExport("gpt2", temp.resolve("garbage"));
        Files.write(garbage.resolve("model.onnx"), new byte[] {1, 2, 3, 4, 5, 6, 7});
        expect(StandardErrorCode.MALFORMED_FILE, "model.onnx", () -> provider.create(ModelSource.of(garbage)));

        Path noConfig = copyExport("gpt2", temp.resolve("no-config"));
        Files.delete(noConfig.resolve("config.json"));
        expect(StandardErrorCode.FILE_NOT_FOUND, "config.json", () -> provider.create(ModelSource.of(noConfig)));

        expect(StandardErrorCode.FILE_NOT_FOUND, "config.json", () -> OnnxExporter.export(temp, temp.resolve("x"),
                OnnxExporter.Options.defaults(), null));
    }

    private Path copyExport(String architecture, Path target) throws IOException {
        Files.createDirectories(target);
        try (var files = Files.list(TinyOnnxModels.exported(architecture))) {
            for (Path file : files.toList()) {
                Files.copy(file, target.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return target;
    }

    private static void expect(StandardErrorCode code, String text, org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(CircuitTracerException.class,
                e -> assertThat(e.errorCode()).isEqualTo(code)).hasMessageContaining(text);
    }
}
