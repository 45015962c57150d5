package org.circuittracer.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.stream.IntStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.Positions;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Sites per architecture, and clear errors for hooks and prompts that do not fit the model. */
class HookValidationTest {

    private static TransformerModel llama;
    private static TransformerModel gpt2;
    private NDManager manager;
    private TokenSequence prompt;

    @BeforeAll
    static void open() {
        llama = TinyModels.open("llama");
        gpt2 = TinyModels.open("gpt2");
    }

    @AfterAll
    static void close() {
        llama.close();
        gpt2.close();
    }

    @BeforeEach
    void newManager() {
        manager = NDManager.newBaseManager();
        prompt = TinyModels.prompt("llama", 0);
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }

    @Test
    void sitesAreListedInForwardOrderWithoutTheOnesTheArchitectureLacks() {
        List<String> layer0 = llama.sites().stream().filter(s -> s.layer().orElse(0) == 0).map(HookSite::toString).toList();
        assertThat(layer0).containsExactly("hook_embed", "blocks.0.hook_resid_pre", "blocks.0.ln1.hook_scale",
                "blocks.0.attn.hook_pattern", "blocks.0.hook_attn_out", "blocks.0.hook_resid_mid",
                "blocks.0.ln2.hook_scale", "blocks.0.ln2.hook_normalized", "blocks.0.mlp.hook_in",
                "blocks.0.mlp.hook_out", "blocks.0.hook_mlp_out", "blocks.0.hook_resid_post", "ln_final.hook_scale",
                "ln_final.hook_normalized", "unembed.hook_in", "hook_logits");
        assertThat(llama.sites()).hasSize(1 + 4 * 11 + 4);
        assertThat(gpt2.sites()).contains(HookSite.global(SiteKind.POS_EMBED));
        assertThat(llama.sites()).doesNotContain(HookSite.global(SiteKind.POS_EMBED));
        try (TransformerModel gemma = TinyModels.open("gemma2")) {
            assertThat(gemma.sites()).contains(HookSite.of(SiteKind.LN1_POST_SCALE, 3),
                    HookSite.of(SiteKind.LN2_POST_SCALE, 3));
            assertThat(gemma.sites()).hasSize(1 + 4 * 13 + 4);
        }
    }

    @Test
    void aSiteTheModelLacksIsRejectedListingTheSites() {
        expectInvalid(() -> llama.forward(manager, prompt, List.of(new Hook.Capture(
                HookSite.of(SiteKind.LN1_POST_SCALE, 0)))), "ln1_post.hook_scale", "blocks.L.hook_resid_pre");
        expectInvalid(() -> llama.forward(manager, prompt, List.of(new Hook.Capture(
                HookSite.of(SiteKind.RESID_PRE, 4)))), "blocks.4.hook_resid_pre", "layers 0 to 3");
    }

    @Test
    void misshapedHookTensorsAreRejectedBeforeTheForwardPass() {
        HookSite resid = HookSite.of(SiteKind.RESID_PRE, 1);
        expectInvalid(() -> llama.forward(manager, prompt, List.of(new Hook.Replace(resid, Positions.all(),
                manager.zeros(new Shape(6, 63))))), "[6, 63]", "[6, 64]");
        expectInvalid(() -> llama.forward(manager, prompt, List.of(new Hook.Add(resid, Positions.at(1, 2),
                manager.zeros(new Shape(3, 64))))), "[3, 64]", "[2, 64]");
        expectInvalid(() -> llama.forward(manager, prompt, List.of(new Hook.Replace(
                HookSite.of(SiteKind.ATTN_PATTERN, 0), Positions.at(2), manager.zeros(new Shape(4, 6, 6))))),
                "[4, 6, 6]", "[4, 1, 6]");
        expectInvalid(() -> llama.forward(manager, prompt, List.of(new Hook.Transform(resid, x -> x.get("1:")))),
                "Transform", "[6, 64]");
    }

    @Test
    void broadcastableHookTensorsAreAccepted() {
        HookSite resid = HookSite.of(SiteKind.RESID_PRE, 1);
        HookSite scale = HookSite.of(SiteKind.LN2_SCALE, 1);
        var result = llama.forward(manager, prompt, List.of(
                new Hook.Add(resid, Positions.range(1, 3), manager.ones(new Shape(64))),
                new Hook.Replace(scale, Positions.all(), manager.ones(new Shape(1))), new Hook.Capture(scale)));
        assertThat(result.capturedAt(scale).toFloatArray()).containsOnly(1f);
    }

    @Test
    void positionsOutsideThePromptOrRepeatedAreRejected() {
        HookSite resid = HookSite.of(SiteKind.RESID_MID, 0);
        expectInvalid(() -> llama.forward(manager, prompt, List.of(new Hook.Add(resid, Positions.at(6),
                manager.zeros(new Shape(64))))), "Hook.Add at blocks.0.hook_resid_mid", "Position 6", "6 tokens");
        expectInvalid(() -> llama.forward(manager, prompt, List.of(new Hook.Add(resid, Positions.at(2, -4),
                manager.zeros(new Shape(64))))), "twice");
    }

    @Test
    void promptsTheModelCannotTakeAreRejected() {
        expectInvalid(() -> llama.forward(manager, TokenSequence.of(0, 160), List.of()), "Token id 160", "[0, 160)");
        expectInvalid(() -> TokenSequence.of(), "empty");
        TokenSequence tooLong = new TokenSequence(IntStream.range(0, 65).map(i -> i % 100).toArray());
        expectInvalid(() -> gpt2.forward(manager, tooLong, List.of()), "65 tokens", "64 positions");
        assertThat(gpt2.forward(manager, new TokenSequence(IntStream.range(0, 64).toArray()), List.of())
                .logits().getShape()).isEqualTo(new Shape(64, 128));
    }

    @Test
    void linearisationAndGenerationAreDeclared() {
        // what happens without them is the kit's business; generation's own errors are in GenerationTest
        assertThat(llama.capabilities()).contains(BackendCapability.VJP, BackendCapability.KV_CACHE);
        assertThat(gpt2.capabilities()).contains(BackendCapability.VJP, BackendCapability.KV_CACHE);
    }

    private static void expectInvalid(ThrowingCallable call, String... fragments) {
        assertThatThrownBy(call).isInstanceOfSatisfying(CircuitTracerException.class,
                e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .message().contains(fragments);
    }
}
