package org.circuittracer.transcoders.reference;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.List;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.circuittracer.transcoders.common.ReferenceConfig;
import org.junit.jupiter.api.Test;

/** {@code config.yaml} of the reference format, fuzzed with the testkit's harness (docs/develop/fuzzing.md). */
class ConfigFuzzTest {

    private static final List<String> SEEDS = List.of(
            "model_kind: transcoder_set\nmodel_name: tiny-models/llama\nfeature_input_hook: hook_resid_mid\n"
                    + "feature_output_hook: mlp.hook_out\nscan: tiny-transcoders/llama-plt-relu\nactivation: relu\n",
            "model_kind: cross_layer_transcoder\nmodel_name: circuit-tracer/demo-model\nfeature_input_hook: mlp.hook_in\n"
                    + "feature_output_hook: mlp.hook_out\nactivation: relu\n",
            "model_kind: transcoder_set\nfeature_input_hook: ln2.hook_normalized\nfeature_output_hook: hook_mlp_out\n"
                    + "transcoders:\n  - layer_0.safetensors\n  - \"hf://org/repo/layer_1.safetensors@main\"\n"
                    + "activation: topk\nk: 16\nrevision: abc123\n",
            "{\"model_kind\": \"transcoder_set\", \"feature_input_hook\": \"mlp.hook_in\", "
                    + "\"feature_output_hook\": \"hook_mlp_out\", \"activation\": \"jumprelu\", "
                    + "\"transcoders\": [\"a.safetensors\", \"b.safetensors\"]}\n");

    @Test
    void mutatedConfigsLoadOrFailWithCircuitTracerException() {
        Fuzzer.Result r = Fuzzer.named("reference config.yaml").text().seedTexts(SEEDS)
                .strings(List.of("transcoder_set", "cross_layer_transcoder", "topk", "batchtopk", "jump_relu",
                        "hook_resid_mid", "mlp.hook_in", "hook_mlp_out", "k", "transcoders"))
                .run((input, dir) -> {
                    Files.write(dir.resolve(ReferenceConfig.FILE_NAME), input);
                    ReferenceConfig.read(dir);
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
        assertThat(r.errorCodes().keySet()).isSubsetOf("MALFORMED_FILE", "UNSUPPORTED_ARCHITECTURE");
    }

    /** Found by the fuzzer: a file that is not UTF-8 was reported as FILE_NOT_FOUND ("Cannot read"). */
    @Test
    void aConfigThatIsNotUtf8IsMalformedNotMissing(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        Files.write(dir.resolve(ReferenceConfig.FILE_NAME), new byte[] {'m', ':', ' ', (byte) 0xC3, (byte) 0x28});
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ReferenceConfig.read(dir))
                .isInstanceOfSatisfying(org.circuittracer.spi.CircuitTracerException.class, e ->
                        assertThat(e.errorCode()).isEqualTo(org.circuittracer.spi.StandardErrorCode.MALFORMED_FILE))
                .hasMessageContaining("is not UTF-8 text");
    }

    @Test
    void theLenientReadersNeverThrow() {
        Fuzzer.named("reference config.yaml (peek)").text().seedTexts(SEEDS).share(0.2).run((input, dir) -> {
            Files.write(dir.resolve(ReferenceConfig.FILE_NAME), input);
            ReferenceConfig.peek(dir);
            ReferenceConfig.lenientTree(dir);
        });
    }
}
