package org.circuittracer.backend.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.model.ForwardResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The exported models on ONNX Runtime against the djl backend on the same weights and against the goldens. */
class ForwardParityTest {

    static List<String> architectures() {
        return TinyOnnxModels.ARCHITECTURES;
    }

    @ParameterizedTest
    @MethodSource("architectures")
    void logitsAndEverySiteEqualTheDjlBackend(String architecture) {
        try (TransformerModel onnx = TinyOnnxModels.onnx(architecture);
             TransformerModel djl = TinyOnnxModels.djl(architecture);
             NDManager manager = NDManager.newBaseManager()) {
            assertThat(onnx.sites()).containsExactlyElementsOf(djl.sites());
            assertThat(onnx.config()).usingRecursiveComparison().ignoringFields("modelName").isEqualTo(djl.config());
            double worst = 0;
            for (int k = 0; k < 3; k++) {
                TokenSequence prompt = TinyOnnxModels.prompt(architecture, k);
                List<Hook> captures = onnx.sites().stream().<Hook>map(Hook.Capture::new).toList();
                ForwardResult a = onnx.forward(manager, prompt, captures);
                ForwardResult b = djl.forward(manager, prompt, captures);
                worst = Math.max(worst, TinyOnnxModels.relativeError(a.logits().toFloatArray(),
                        b.logits().toFloatArray()));
                for (HookSite site : onnx.sites()) {
                    assertThat(a.capturedAt(site).getShape()).as("%s", site).isEqualTo(b.capturedAt(site).getShape());
                    double error = TinyOnnxModels.relativeError(a.capturedAt(site).toFloatArray(),
                            b.capturedAt(site).toFloatArray());
                    assertThat(error).as("%s %s prompt %d", architecture, site, k).isLessThanOrEqualTo(1e-4);
                    worst = Math.max(worst, error);
                }
            }
            System.out.printf("%s: largest relative error vs djl over logits and all sites: %.2e%n", architecture,
                    worst);
            assertThat(worst).isLessThanOrEqualTo(1e-4);
        }
    }

    @ParameterizedTest
    @MethodSource("architectures")
    void activationsEqualTheGoldens(String architecture) {
        try (TransformerModel onnx = TinyOnnxModels.onnx(architecture);
             SafetensorsFile golden = TinyOnnxModels.golden(architecture);
             NDManager manager = NDManager.newBaseManager()) {
            for (int k = 0; k < 3; k++) {
                TokenSequence prompt = TinyOnnxModels.prompt(architecture, k);
                List<Hook> captures = new ArrayList<>();
                int layers = onnx.config().layers();
                for (int layer = 0; layer < layers; layer++) {
                    for (SiteKind kind : List.of(SiteKind.RESID_PRE, SiteKind.ATTN_PATTERN, SiteKind.RESID_MID,
                            SiteKind.MLP_IN, SiteKind.MLP_OUT, SiteKind.ATTN_OUT, SiteKind.RESID_POST)) {
                        captures.add(new Hook.Capture(HookSite.of(kind, layer)));
                    }
                }
                captures.add(new Hook.Capture(HookSite.global(SiteKind.UNEMBED_IN)));
                ForwardResult result = onnx.forward(manager, prompt, captures);
                String p = "p" + k + ".";
                check(result.logits().toFloatArray(), golden.readFloats(p + "logits"), p + "logits");
                check(result.capturedAt(HookSite.global(SiteKind.UNEMBED_IN)).toFloatArray(),
                        golden.readFloats(p + "final_normed"), p + "final_normed");
                for (int layer = 0; layer < layers; layer++) {
                    String l = p + "layers." + layer + ".";
                    check(result.capturedAt(HookSite.of(SiteKind.RESID_PRE, layer)).toFloatArray(),
                            golden.readFloats(l + "resid_pre"), l + "resid_pre");
                    check(result.capturedAt(HookSite.of(SiteKind.ATTN_PATTERN, layer)).toFloatArray(),
                            golden.readFloats(l + "attn_probs"), l + "attn_probs");
                    check(result.capturedAt(HookSite.of(SiteKind.RESID_MID, layer)).toFloatArray(),
                            golden.readFloats(l + "resid_mid"), l + "resid_mid");
                    check(result.capturedAt(HookSite.of(SiteKind.MLP_IN, layer)).toFloatArray(),
                            golden.readFloats(l + "mlp_in"), l + "mlp_in");
                    check(result.capturedAt(HookSite.of(SiteKind.MLP_OUT, layer)).toFloatArray(),
                            golden.readFloats(l + "mlp_out"), l + "mlp_out");
                    check(result.capturedAt(HookSite.of(SiteKind.ATTN_OUT, layer)).toFloatArray(),
                            golden.readFloats(l + "attn_out"), l + "attn_out");
                    check(result.capturedAt(HookSite.of(SiteKind.RESID_POST, layer)).toFloatArray(),
                            golden.readFloats(l + "resid_post"), l + "resid_post");
                }
            }
        }
    }

    private static void check(float[] actual, float[] expected, String what) {
        assertThat(actual).as(what).hasSameSizeAs(expected);
        for (int i = 0; i < actual.length; i++) {
            double error = Math.abs(actual[i] - expected[i]);
            if (error > 1e-4 + 1e-4 * Math.abs(expected[i])) {
                throw new AssertionError(what + "[" + i + "] = " + actual[i] + ", golden " + expected[i]);
            }
        }
    }
}
