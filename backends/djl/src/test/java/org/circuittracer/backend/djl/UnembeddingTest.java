package org.circuittracer.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.stream.IntStream;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The unembedding vectors reproduce the logits exactly: z·U, then Gemma-2's final soft-cap 30·tanh(x/30). */
class UnembeddingTest {

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama", "gemma2", "qwen3"})
    void unembeddingVectorsReproduceTheLogits(String architecture) {
        try (TransformerModel model = TinyModels.open(architecture); NDManager manager = NDManager.newBaseManager()) {
            TokenSequence tokens = TokenSequence.of(0, 5, 9, 4);
            HookSite z = HookSite.global(SiteKind.UNEMBED_IN);
            var result = model.forward(manager, tokens, List.of(new Hook.Capture(z)));
            int[] all = IntStream.range(0, model.config().vocabularySize()).toArray();
            NDArray raw = result.capturedAt(z).matMul(model.unembeddingVectors(manager, all).transpose());
            NDArray expected = architecture.equals("gemma2") ? raw.div(30).tanh().mul(30) : raw;
            float[] e = expected.toFloatArray();
            float[] a = result.logits().toFloatArray();
            for (int i = 0; i < e.length; i++) {
                assertThat((double) a[i]).as("logit %d", i).isCloseTo(e[i], org.assertj.core.data.Offset.offset(1e-4));
            }
        }
    }
}
