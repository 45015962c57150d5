package org.circuittracer.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.Test;

/** What the provider declares and what the models it opens report. */
class DjlBackendProviderTest {

    private final DjlBackendProvider provider = new DjlBackendProvider();

    @Test
    void claimsTheFixtureModelsAndDeclaresWhatThisSliceDoes() {
        TinyModels.ARCHITECTURES.forEach(a -> assertThat(provider.recognize(TinyModels.directory(a)).matches()).as(a).isTrue());
        assertThat(provider.capabilities()).containsExactlyInAnyOrder(BackendCapability.HOOKS,
                BackendCapability.FUNCTION_HOOKS, BackendCapability.FREEZE_ATTENTION, BackendCapability.FREEZE_NORMS,
                BackendCapability.FLOAT16, BackendCapability.VJP, BackendCapability.KV_CACHE,
                BackendCapability.UNEMBEDDING, BackendCapability.HEAD_LOADINGS, BackendCapability.QK_ATTRIBUTION);
    }

    @Test
    void reportsTheDimensionsFromConfigJson() {
        try (TransformerModel gemma = TinyModels.open("gemma2"); TransformerModel gpt2 = TinyModels.open("gpt2")) {
            assertThat(gemma.backendName()).isEqualTo("djl");
            assertThat(gemma.capabilities()).isEqualTo(provider.capabilities());
            assertThat(gemma.config()).isEqualTo(new ModelConfig("gemma2", "Gemma2ForCausalLM", 4, 48, 4, 2, 16, 128,
                    256, 128));
            assertThat(gpt2.config()).isEqualTo(new ModelConfig("gpt2", "GPT2LMHeadModel", 3, 48, 4, 4, 12, 192, 128,
                    64));
        }
    }

    @Test
    void concurrentForwardPassesAgreeWithSerialOnes() throws Exception {
        try (TransformerModel model = TinyModels.open("qwen3"); NDManager manager = NDManager.newBaseManager()) {
            List<TokenSequence> prompts = List.of(TinyModels.prompt("qwen3", 0), TinyModels.prompt("qwen3", 1),
                    TinyModels.prompt("qwen3", 2));
            List<float[]> serial = new ArrayList<>();
            prompts.forEach(p -> serial.add(model.forward(manager, p, List.of()).logits().toFloatArray()));
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                // float[] results: the arrays themselves die with each thread's manager
                List<Future<float[]>> parallel = new ArrayList<>();
                for (int i = 0; i < 12; i++) {
                    TokenSequence prompt = prompts.get(i % 3);
                    parallel.add(pool.submit(() -> {
                        try (NDManager own = NDManager.newBaseManager()) {
                            return model.forward(own, prompt, List.of()).logits().toFloatArray();
                        }
                    }));
                }
                for (int i = 0; i < parallel.size(); i++) {
                    float[] expected = serial.get(i % 3);
                    assertThat(parallel.get(i).get()).containsExactly(expected, offset(1e-6f));
                }
            } finally {
                pool.shutdown();
            }
        }
    }
}
