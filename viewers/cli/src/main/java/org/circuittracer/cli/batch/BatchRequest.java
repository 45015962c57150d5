package org.circuittracer.cli.batch;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;

import org.circuittracer.cli.ModelSpec;
import org.circuittracer.cli.PromptAttribution;

/**
 * One batch run.
 *
 * @param prompts           JSON Lines ({@code prompt} or {@code prompt_ids}, optional {@code slug} and {@code target})
 *                          or Parquet with the same columns
 * @param out               the output directory
 * @param master            the engine's master URL, or null for the engine's default (its own configuration, else
 *                          in-process on every core)
 * @param settings          attribution and pruning, as {@code attribute} has them
 * @param resume            skip prompts whose outputs exist
 * @param promptsPerTask    prompts per task (1: one task per prompt); must be 1 when {@code partitions} is given
 * @param partitions        how many tasks the prompts are split into, evenly and in order (0: one task per
 *                          {@code promptsPerTask} prompts); more than there are prompts means one task per prompt
 * @param failFirstAttempt  slugs whose first task attempt fails after writing its outputs (tests of retries only)
 */
public record BatchRequest(Path prompts, Path out, String master, ModelSpec model,
                           PromptAttribution.Settings settings, boolean resume, int promptsPerTask,
                           int partitions, Set<String> failFirstAttempt) {

    public BatchRequest {
        Objects.requireNonNull(prompts, "prompts");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(settings, "settings");
        if (promptsPerTask < 1) {
            throw new IllegalArgumentException("promptsPerTask must be >= 1");
        }
        if (partitions < 0) {
            throw new IllegalArgumentException("partitions must be >= 0");
        }
        if (partitions > 0 && promptsPerTask != 1) {
            throw new IllegalArgumentException("give promptsPerTask or partitions, not both");
        }
        failFirstAttempt = Set.copyOf(failFirstAttempt);
    }

    /** A run whose tasks hold {@code promptsPerTask} prompts each. */
    public BatchRequest(Path prompts, Path out, String master, ModelSpec model, PromptAttribution.Settings settings,
                        boolean resume, int promptsPerTask, Set<String> failFirstAttempt) {
        this(prompts, out, master, model, settings, resume, promptsPerTask, 0, failFirstAttempt);
    }

    /**
     * How many tasks a batch of {@code prompts} prompts runs in: {@code partitions} (at most one per prompt), or one
     * per {@code promptsPerTask} prompts.
     */
    public int tasks(int prompts) {
        if (partitions > 0) {
            return Math.max(1, Math.min(partitions, prompts));
        }
        return Math.max(1, (prompts + promptsPerTask - 1) / promptsPerTask);
    }
}
