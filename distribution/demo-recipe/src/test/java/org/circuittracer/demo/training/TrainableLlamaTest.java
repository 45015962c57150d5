package org.circuittracer.demo.training;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.List;
import org.circuittracer.backend.djl.DjlBackendProvider;
import org.circuittracer.demo.corpus.DemoCorpus.Document;
import org.circuittracer.demo.corpus.DemoCorpus;
import org.circuittracer.demo.tokenizer.WordLevelVocabulary;
import org.circuittracer.safetensors.DType;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The training model computes what a Hugging Face {@code LlamaForCausalLM} computes: a saved checkpoint, opened by the
 * DJL backend, gives the same logits; and a few optimiser steps lower the loss.
 */
class TrainableLlamaTest {

    private static final List<Document> DOCS = new DemoCorpus(9).documents(200);
    private static final WordLevelVocabulary VOCABULARY = WordLevelVocabulary.of(
            java.util.stream.Stream.concat(DemoCorpus.allSentences().stream(), DOCS.stream().map(Document::text))
                    .toList());

    private static LlamaShape smallShape() {
        return new LlamaShape(VOCABULARY.size(), 32, 2, 4, 64, 128, 10_000.0, 1e-5f, VOCABULARY.bos(),
                VOCABULARY.eos(), VOCABULARY.pad());
    }

    @Test
    void savedCheckpointGivesTheSameLogitsInTheBackend(@TempDir Path dir) {
        LlamaShape shape = smallShape();
        int[] ids = Sequences.prompt(DOCS.get(0), VOCABULARY);
        float[] expected;
        try (NDManager manager = NDManager.newBaseManager()) {
            TrainableLlama model = TrainableLlama.initialise(shape, manager, 3);
            // larger weights than the initialisation so that attention and norms are far from uniform
            model.parameters().values().forEach(p -> p.muli(p.getShape().dimension() > 1 ? 12f : 1f));
            model.save(dir.resolve("model.safetensors"), DType.F32);
            long[] longs = java.util.Arrays.stream(ids).asLongStream().toArray();
            expected = model.logits(manager.create(longs, new Shape(1, ids.length))).toFloatArray();
        }
        shape.writeConfig(dir);
        VOCABULARY.write(dir);
        try (TransformerModel backend = new DjlBackendProvider().create(ModelSource.of(dir));
             NDManager manager = NDManager.newBaseManager()) {
            NDArray logits = backend.forward(manager, TokenSequence.of(ids), List.of()).logits();
            float[] actual = logits.toFloatArray();
            assertThat(actual).hasSameSizeAs(expected);
            double maxError = 0;
            double scale = 0;
            for (int i = 0; i < actual.length; i++) {
                maxError = Math.max(maxError, Math.abs(actual[i] - expected[i]));
                scale = Math.max(scale, Math.abs(expected[i]));
            }
            assertThat(scale).as("logits are not trivially small").isGreaterThan(0.5);
            assertThat(maxError / scale).isLessThan(1e-5);
        }
    }

    @Test
    void aFewStepsLowerTheLoss() {
        LlamaShape shape = smallShape();
        List<int[]> sequences = Sequences.of(DOCS, VOCABULARY, DemoCorpus.MAX_DOCUMENT_TOKENS + 2);
        try (NDManager manager = NDManager.newBaseManager()) {
            TrainableLlama model = TrainableLlama.initialise(shape, manager, 3);
            LanguageModelTrainer trainer = new LanguageModelTrainer(
                    new LanguageModelTrainer.Settings(60, 8, 1e-2f, 10, 0.01f, 1));
            List<Float> losses = new java.util.ArrayList<>();
            float last = trainer.train(model, sequences, VOCABULARY.pad(), r -> losses.add(r.loss()));
            assertThat(losses.get(0)).isGreaterThan((float) Math.log(VOCABULARY.size()) - 0.5f);
            assertThat(last).isLessThan(losses.get(0) - 1.5f);
        }
    }
}
