package org.circuittracer.transformer.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.GenerationRequest;
import org.circuittracer.spi.model.GenerationResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.Sampling;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.Test;

/** The loop both backends generate with, on scripted passes: its stops, what it feeds back, its checks. */
class GenerationLoopTest {

    private static final ModelConfig CONFIG = new ModelConfig("tiny", "LlamaForCausalLM", 1, 4, 1, 1, 4, 8, 10, 6);

    /** Passes whose greedy token is the next of {@code script}; records what they were fed. */
    private static final class Scripted implements GenerationLoop.Passes {
        private final int[] script;
        final List<String> fed = new ArrayList<>();
        boolean closed;

        Scripted(int... script) {
            this.script = script;
        }

        @Override
        public float[] next(int[] ids, int first) {
            fed.add(first + ":" + java.util.Arrays.toString(ids));
            float[] logits = new float[CONFIG.vocabularySize()];
            logits[script[fed.size() - 1]] = 1;
            return logits;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private static GenerationRequest request(int maxNewTokens, Set<Integer> stops, List<Hook> hooks) {
        return new GenerationRequest(new TokenSequence(new int[] {1, 2}), maxNewTokens, Sampling.greedy(), stops,
                hooks);
    }

    @Test
    void feedsEachTokenBackAtItsPositionAndStopsAfterAStopToken() {
        Scripted passes = new Scripted(5, 7, 3, 9);
        try (NDManager manager = NDManager.newBaseManager()) {
            GenerationResult result = GenerationLoop.run(manager, CONFIG, request(4, Set.of(3), List.of()), passes);
            assertThat(result.tokens().ids()).containsExactly(1, 2, 5, 7, 3);
            assertThat(result.stepLogits().getShape().getShape()).containsExactly(3, 10);
        }
        assertThat(passes.fed).containsExactly("0:[1, 2]", "2:[5]", "3:[7]");
        assertThat(passes.closed).isTrue();
    }

    @Test
    void stopsAtTheModelsMaximumPositions() {
        Scripted passes = new Scripted(4, 4, 4, 4, 4, 4);
        try (NDManager manager = NDManager.newBaseManager()) {
            GenerationResult result = GenerationLoop.run(manager, CONFIG, request(50, Set.of(), List.of()), passes);
            assertThat(result.tokens().length()).isEqualTo(CONFIG.maxPositions());
        }
        assertThat(passes.fed).hasSize(4);
    }

    @Test
    void refusesAPromptWithNoRoomAStopTokenOutsideTheVocabularyAndCaptures() {
        GenerationRequest full = new GenerationRequest(new TokenSequence(new int[] {1, 2, 3, 4, 5, 6}), 1,
                Sampling.greedy(), Set.of(), List.of());
        assertThatThrownBy(() -> GenerationLoop.validate(CONFIG, full, "tiny", Set.of()))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining("no room").hasMessageContaining("at most 5 tokens");
        assertThatThrownBy(() -> GenerationLoop.validate(CONFIG, request(1, Set.of(10), List.of()), "tiny", Set.of()))
                .hasMessageContaining("Stop token 10 is outside the vocabulary [0, 10)");
        List<Hook> capture = List.of(new Hook.Capture(HookSite.global(SiteKind.EMBED)));
        assertThatThrownBy(() -> GenerationLoop.validate(CONFIG, request(1, Set.of(), capture), "tiny", Set.of()))
                .hasMessageContaining("cannot be used in a generation").hasMessageNotContaining("Hook.Transform");
        assertThatThrownBy(() -> GenerationLoop.validate(CONFIG, request(1, Set.of(), capture), "tiny",
                Set.of(BackendCapability.FUNCTION_HOOKS))).hasMessageContaining("use a Hook.Transform");
    }

    @Test
    void aHookFailingOnAStepSaysWhichStepAndKeepsTheCode() {
        CircuitTracerException cause = new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Bad shape.");
        CircuitTracerException e = GenerationLoop.atStep(cause, 7);
        assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT);
        assertThat(e).hasMessageStartingWith("At the generation step for position 7: Bad shape.")
                .hasMessageContaining("over 8 keys").hasCause(cause);
    }
}
