package org.circuittracer.demo.training;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Next-token training of a {@link TrainableLlama} on fixed-length sequences ({@code BOS doc EOS PAD…}) with AdamW,
 * linear warm-up and cosine decay. Batches are drawn with a seeded generator, so a run is reproducible on one
 * machine (floating-point reductions in the engine may differ across CPUs).
 */
public final class LanguageModelTrainer {

    /** Training settings. */
    public record Settings(int steps, int batchSize, float learningRate, int warmupSteps, float weightDecay,
                           long seed) {
    }

    /** A progress report. */
    public record Report(int step, int steps, float loss, float gradientNorm) {
    }

    /** Steps with a non-finite gradient that may be skipped before training counts as diverged. */
    static final int MAX_SKIPPED_STEPS = 20;

    private final Settings settings;

    public LanguageModelTrainer(Settings settings) {
        this.settings = settings;
    }

    /**
     * Trains {@code model} on {@code sequences} (each of the same length, padded with {@code padId}).
     *
     * @return the mean loss of the last 50 steps
     */
    public float train(TrainableLlama model, List<int[]> sequences, int padId, Consumer<Report> progress) {
        NDManager manager = model.parameters().values().iterator().next().getManager();
        AdamW optimiser = new AdamW(model.parameterList(), 0.9f, 0.98f, 1e-8f, settings.weightDecay(), 1.0f);
        Random random = new Random(settings.seed());
        int length = sequences.get(0).length;
        double recent = 0;
        int recentCount = 0;
        int skipped = 0;
        for (int step = 1; step <= settings.steps(); step++) {
            try (NDScope ignored = new NDScope()) {
                long[] inputs = new long[settings.batchSize() * (length - 1)];
                long[] targets = new long[inputs.length];
                float[] mask = new float[inputs.length];
                for (int b = 0; b < settings.batchSize(); b++) {
                    int[] seq = sequences.get(random.nextInt(sequences.size()));
                    for (int t = 0; t < length - 1; t++) {
                        int at = b * (length - 1) + t;
                        inputs[at] = seq[t];
                        targets[at] = seq[t + 1];
                        mask[at] = seq[t + 1] == padId ? 0f : 1f;
                    }
                }
                Shape shape = new Shape(settings.batchSize(), length - 1);
                NDArray in = manager.create(inputs, shape);
                NDArray target = manager.create(targets, shape);
                NDArray m = manager.create(mask, shape);
                float loss;
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    optimiser.zeroGradients();
                    NDArray l = model.loss(in, target, m);
                    collector.backward(l);
                    loss = l.getFloat();
                }
                float norm = optimiser.step(learningRate(step));
                if (!Float.isFinite(norm) || !Float.isFinite(loss)) {
                    // rare non-finite gradients are skipped (the optimiser did not update); many mean divergence
                    skipped++;
                    progress.accept(new Report(step, settings.steps(), loss, norm));
                    if (skipped > MAX_SKIPPED_STEPS || !Float.isFinite(loss)) {
                        throw new IllegalStateException("training diverged at step " + step + " (loss " + loss
                                + ", gradient norm " + norm + ", " + skipped + " steps skipped); lower the "
                                + "learning rate");
                    }
                }
                if (step > settings.steps() - 50) {
                    recent += loss;
                    recentCount++;
                }
                if (step % 50 == 0 || step == 1 || step == settings.steps()) {
                    progress.accept(new Report(step, settings.steps(), loss, norm));
                }
            }
        }
        return (float) (recent / Math.max(1, recentCount));
    }

    private float learningRate(int step) {
        if (step <= settings.warmupSteps()) {
            return settings.learningRate() * step / settings.warmupSteps();
        }
        double progress = (step - settings.warmupSteps()) / (double) Math.max(1, settings.steps() - settings.warmupSteps());
        return (float) (settings.learningRate() * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress))));
    }
}
