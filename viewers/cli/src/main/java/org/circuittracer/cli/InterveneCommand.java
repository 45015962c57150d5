package org.circuittracer.cli;

import java.io.PrintWriter;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

import org.circuittracer.attribution.intervention.InterventionResult;
import org.circuittracer.attribution.intervention.Interventions;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.attribution.targets.LogitTargets;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.Tokenizer;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code circuit-tracer intervene}: the next-token prediction with and without feature interventions. */
@Command(name = "intervene", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the prompt through the replacement model with feature interventions and print the top "
                + "next tokens with and without them, side by side.",
                "Without --model it runs on the embedded demo model (default prompt: the Dallas two-hop prompt)."},
        footer = {"", "Examples:",
                "  circuit-tracer intervene -i 0:@Dallas:all*-1 -i 1:@Dallas:all*-1",
                "      flip the sign of every layer-0 and layer-1 feature at the token 'Dallas' of the demo prompt",
                "  circuit-tracer intervene --prompt \"Fact: the capital of the state containing Oakland is\" \\",
                "      -i 2:-1:57=8 --mode free --top-k 5",
                "  circuit-tracer intervene --supernodes graphs/supernodes.json --scale-supernode \"Texas=-2\""})
final class InterveneCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ModelOptions modelOptions = new ModelOptions();

    @CommandLine.Mixin
    PromptOptions promptOptions = new PromptOptions();

    @CommandLine.Mixin
    SteeringOptions steering = new SteeringOptions();

    @Option(names = "--top-k", defaultValue = "10", paramLabel = "K",
            description = "Next tokens to show (default: ${DEFAULT-VALUE}).")
    int topK;

    @CommandLine.Mixin
    ProgressOptions output = new ProgressOptions();

    @Override
    public void run() {
        promptOptions.ids(spec);
        List<InterventionSpec> specs = steering.specs(spec);
        if (topK < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value: --top-k must be >= 1, got "
                    + topK + ".");
        }
        ModelOptions.Resolved resolved = modelOptions.resolve(spec);
        ProgressListener progress = output.listener(spec);
        try (Registries.Registry registry = Registries.open(modelOptions.pluginDirectory());
             LoadedModel loaded = LoadedModel.open(registry, modelOptions, resolved, progress::note);
             NDManager manager = NDManager.newBaseManager()) {
            Tokenizer tokenizer = loaded.model.tokenizer();
            TokenSequence tokens = promptOptions.tokens(loaded.model, resolved, spec);
            SteeringOptions.Plan plan = steering.plan(specs, loaded, tokens, spec);
            progress.note("Intervening on " + plan.describe(""));
            InterventionResult steered = Interventions.intervene(manager, ReplacementModel.of(loaded.model,
                    loaded.dictionary), tokens, plan.interventions(), plan.options());
            float[] steeredLast = lastRow(steered.logits());
            float[] cleanLast = lastRow(loaded.model.forward(manager, tokens, List.of()).logits());
            print(spec.commandLine().getOut(), tokens, tokenizer, cleanLast, steeredLast);
        }
    }

    private void print(PrintWriter out, TokenSequence tokens, Tokenizer tokenizer, float[] clean, float[] steered) {
        out.println("Prompt: " + InterventionSpec.describe(tokens, tokenizer));
        out.printf(Locale.ROOT, "Next token after position %d:%n", tokens.length() - 1);
        double[] p = LogitTargets.softmax(clean);
        double[] q = LogitTargets.softmax(steered);
        int[] before = top(p, topK);
        int[] after = top(q, topK);
        int k = before.length;
        int width = 12;
        for (int i = 0; i < k; i++) {
            width = Math.max(width, Math.max(tokenizer.tokenText(before[i]).length(),
                    tokenizer.tokenText(after[i]).length()));
        }
        String row = "  %4s  %-" + width + "s %8s    %-" + width + "s %8s%n";
        out.printf(Locale.ROOT, row, "rank", "unsteered", "p", "steered", "p");
        for (int i = 0; i < k; i++) {
            out.printf(Locale.ROOT, row, i + 1, tokenizer.tokenText(before[i]), String.format(Locale.ROOT, "%.4f",
                    p[before[i]]), tokenizer.tokenText(after[i]), String.format(Locale.ROOT, "%.4f", q[after[i]]));
        }
        out.printf(Locale.ROOT, "Top token: %s -> %s%s%n", tokenizer.tokenText(before[0]), tokenizer.tokenText(after[0]),
                before[0] == after[0] ? " (unchanged)" : " (changed)");
        out.flush();
    }

    static float[] lastRow(NDArray logits) {
        long t = logits.getShape().get(0);
        return logits.get(t - 1).toType(DataType.FLOAT32, false).toFloatArray();
    }

    /** The {@code k} most probable ids, descending (ties to the lower id). */
    static int[] top(double[] p, int k) {
        return IntStream.range(0, p.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -p[i]).thenComparingInt(i -> i))
                .limit(Math.min(k, p.length)).mapToInt(Integer::intValue).toArray();
    }
}
