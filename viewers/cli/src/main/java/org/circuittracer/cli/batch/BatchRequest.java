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
 * @param promptsPerTask    prompts per task (1: one task per prompt)
 * @param failFirstAttempt  slugs whose first task attempt fails after writing its outputs (tests of retries only)
 */
public record BatchRequest(Path prompts, Path out, String master, ModelSpec model,
                           PromptAttribution.Settings settings, boolean resume, int promptsPerTask,
                           Set<String> failFirstAttempt) {

    public BatchRequest {
        Objects.requireNonNull(prompts, "prompts");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(settings, "settings");
        if (promptsPerTask < 1) {
            throw new IllegalArgumentException("promptsPerTask must be >= 1");
        }
        failFirstAttempt = Set.copyOf(failFirstAttempt);
    }
}
