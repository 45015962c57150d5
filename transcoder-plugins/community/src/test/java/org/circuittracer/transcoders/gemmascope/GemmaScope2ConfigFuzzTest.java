package org.circuittracer.transcoders.gemmascope;


import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.circuittracer.transcoders.common.FormatOptions;
import org.junit.jupiter.api.Test;

/** GemmaScope 2 {@code config.json}, fuzzed with the testkit's harness (docs/develop/fuzzing.md). */
class GemmaScope2ConfigFuzzTest {

    private static final List<String> SEEDS = List.of("""
            {
              "architecture" : "jump_relu",
              "model_name" : "gemma-v3-1b-pt",
              "hf_hook_point_in" : "model.layers.0.pre_feedforward_layernorm.output",
              "hf_hook_point_out" : "model.layers.0.post_feedforward_layernorm.output",
              "affine_connection" : true
            }
            """, """
            {"architecture": "jump_relu", "hf_hook_point_in": "model.layers.7.post_attention_layernorm.output",
             "hf_hook_point_out": "model.layers.7.mlp.output", "affine_connection": false, "width": 16384}
            """, """
            {"hf_hook_point_in": "model.layers.2.output"}
            """);

    @Test
    void mutatedConfigsLoadOrFailWithCircuitTracerException() {
        Fuzzer.Result r = Fuzzer.named("GemmaScope 2 config.json").text().seedTexts(SEEDS)
                .strings(List.of("jump_relu", "relu", "hf_hook_point_in", "hf_hook_point_out",
                        "model.layers.9999999.mlp.output", "model.layers.1.pre_feedforward_layernorm.output"))
                .run((input, dir) -> {
                    Path member = Files.createDirectories(dir.resolve("layer_0_width_16k_l0_small_affine"));
                    Files.write(member.resolve(GemmaScope2Reader.CONFIG), input);
                    GemmaScope2Reader.member(member, FormatOptions.of(new DictionarySource(dir, true, true,
                            Map.of()), GemmaScope2Provider.NAME));
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }
}
