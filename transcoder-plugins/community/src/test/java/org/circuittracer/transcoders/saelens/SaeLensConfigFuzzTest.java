package org.circuittracer.transcoders.saelens;


import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.circuittracer.transcoders.common.FormatOptions;
import org.junit.jupiter.api.Test;

/** SAELens {@code cfg.json}, fuzzed with the testkit's harness (docs/develop/fuzzing.md). */
class SaeLensConfigFuzzTest {

    static final List<String> SEEDS = List.of("""
            {
              "architecture" : "jumprelu_transcoder", "d_in" : 16, "d_sae" : 32, "d_out" : 16,
              "dtype" : "float32", "device" : "cpu", "apply_b_dec_to_input" : false,
              "normalize_activations" : "none", "reshape_activations" : "none",
              "metadata" : { "sae_lens_version" : "6.12.1", "model_name" : "synthetic",
                "hook_name" : "blocks.0.ln2.hook_normalized", "hook_name_out" : "blocks.0.hook_mlp_out",
                "prepend_bos" : true }
            }
            """, """
            {"architecture": "transcoder", "d_in": 8, "d_sae": 64, "hook_name": "blocks.3.ln2.hook_normalized",
             "hook_name_out": "blocks.3.hook_mlp_out", "hook_layer": 3, "apply_b_dec_to_input": true}
            """, """
            {"architecture": "skip_transcoder", "d_in": 8, "d_sae": 64, "d_out": 8,
             "metadata": {"hook_name": "blocks.1.hook_mlp_in", "hook_name_out": "blocks.1.hook_mlp_out"}}
            """);

    @Test
    void mutatedConfigsLoadOrFailWithCircuitTracerException() {
        Fuzzer.Result r = Fuzzer.named("SAELens cfg.json").text().seedTexts(SEEDS)
                .strings(List.of("standard", "jumprelu", "topk", "transcoder", "gated", "hook_name", "d_sae",
                        "blocks.0.hook_resid_pre", "blocks.99999999.hook_mlp_out"))
                .run((input, dir) -> {
                    Path member = Files.createDirectories(dir.resolve("blocks.0.ln2.hook_normalized"));
                    Files.write(member.resolve(SaeLensTranscoder.CONFIG), input);
                    FormatOptions options = FormatOptions.of(new DictionarySource(dir, true, true, Map.of()),
                            SaeLensProvider.NAME);
                    SaeLensTranscoder.read(member, options);
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }
}
