package org.circuittracer.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

import ai.djl.ndarray.NDManager;

import org.circuittracer.attribution.intervention.Interventions;
import org.circuittracer.attribution.intervention.SteeredGeneration;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.Sampling;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.Tokenizer;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code circuit-tracer generate}: a continuation with feature interventions next to the one without. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generate a continuation of the prompt with feature interventions (steered) and without "
                + "(unsteered), and print both side by side, token by token. Interventions at open-ended positions "
                + "(A.. or *) also steer every generated token.",
                "Without --model it runs on the embedded demo model (default prompt: the Dallas two-hop prompt)."},
        footer = {"", "Examples:",
                "  circuit-tracer generate -i 0:@Dallas:all*-1 -i 1:@Dallas:all*-1 --max-new-tokens 4",
                "  circuit-tracer generate --prompt \"Fact: Messi plays the sport of\" -i '3:*:120=6'",
                "  circuit-tracer generate --supernodes 'http://localhost:8041/graph?slug=x&supernodes=...' \\",
                "      --scale-supernode \"say Austin=-2\" --temperature 0.7 --seed 3"})
final class GenerateCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ModelOptions modelOptions = new ModelOptions();

    @CommandLine.Mixin
    PromptOptions promptOptions = new PromptOptions();

    @CommandLine.Mixin
    SteeringOptions steering = new SteeringOptions();

    @Option(names = "--max-new-tokens", defaultValue = "8", paramLabel = "N",
            description = "Tokens to generate at most; both runs stop early at the model's stop tokens "
                    + "(default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "T",
            description = "Sampling temperature, 0 = greedy (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N",
            description = "Seed of the sampler; both runs use the same (default: ${DEFAULT-VALUE}).")
    long seed;

    @CommandLine.Mixin
    ProgressOptions output = new ProgressOptions();

    @Override
    public void run() {
        promptOptions.ids(spec);
        List<InterventionSpec> specs = steering.specs(spec);
        if (maxNewTokens < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value: --max-new-tokens must be >= 1, "
                    + "got " + maxNewTokens + ".");
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value: --temperature must be a "
                    + "finite number >= 0, got " + temperature + ".");
        }
        ModelOptions.Resolved resolved = modelOptions.resolve(spec);
        ProgressListener progress = output.listener(spec);
        try (Registries.Registry registry = Registries.open(modelOptions.pluginDirectory());
             LoadedModel loaded = LoadedModel.open(registry, modelOptions, resolved, progress::note);
             NDManager manager = NDManager.newBaseManager()) {
            Tokenizer tokenizer = loaded.model.tokenizer();
            TokenSequence tokens = promptOptions.tokens(loaded.model, resolved, spec);
            int context = loaded.model.config().maxPositions();
            if (tokens.length() + maxNewTokens > context) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The prompt has "
                        + tokens.length() + " tokens and --max-new-tokens is " + maxNewTokens + ": together more than "
                        + "the " + context + " positions of the model; lower --max-new-tokens to at most "
                        + Math.max(0, context - tokens.length()) + " or shorten the prompt.");
            }
            SteeringOptions.Plan plan = steering.plan(specs, loaded, tokens, spec);
            progress.note("Generating up to " + maxNewTokens + " tokens with and without "
                    + plan.describe("intervention"));
            SteeredGeneration result = Interventions.generate(manager, ReplacementModel.of(loaded.model,
                    loaded.dictionary), tokens, plan.interventions(), plan.options(), maxNewTokens,
                    new Sampling(temperature, 0, 1, seed), 1);
            print(spec.commandLine().getOut(), tokens, tokenizer, result);
        }
    }

    private static void print(PrintWriter out, TokenSequence tokens, Tokenizer tokenizer, SteeredGeneration result) {
        out.println("Prompt:    " + tokenizer.decode(tokens.ids(), true));
        out.println("Unsteered: " + result.unsteered().continuation());
        out.println("Steered:   " + result.steered().continuation());
        List<SteeredGeneration.TopLogits> before = result.unsteered().steps();
        List<SteeredGeneration.TopLogits> after = result.steered().steps();
        int width = 9;
        for (SteeredGeneration.TopLogits s : before) {
            width = Math.max(width, tokenizer.tokenText(s.chosen()).length());
        }
        String row = "  %4s  %-" + width + "s  %s%n";
        out.printf(Locale.ROOT, row, "step", "unsteered", "steered");
        for (int i = 0; i < Math.max(before.size(), after.size()); i++) {
            out.printf(Locale.ROOT, row, i + 1, i < before.size() ? tokenizer.tokenText(before.get(i).chosen()) : "",
                    i < after.size() ? tokenizer.tokenText(after.get(i).chosen()) : "");
        }
        out.flush();
    }
}
