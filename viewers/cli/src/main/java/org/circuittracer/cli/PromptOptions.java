package org.circuittracer.cli;

import org.circuittracer.attribution.replacement.PromptTokens;
import org.circuittracer.demo.corpus.DemoCorpus;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;

import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** {@code --prompt TEXT} or {@code --prompt-ids IDS}; with the demo model the Dallas prompt is the default. */
final class PromptOptions {

    /** The demo's default prompt names this city (DemoCorpus.twoHopPrompt). */
    static final String DEMO_CITY = "Dallas";

    static final class Prompt {
        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", required = true,
                description = "Prompt text; a special token is prepended as the reference does. Default with the demo "
                        + "model: \"Fact: the capital of the state containing Dallas is\".")
        String text;

        @Option(names = "--prompt-ids", paramLabel = "ID,ID,...", required = true,
                description = "Token ids, used verbatim (a special token is prepended when the first is not one).")
        String ids;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Prompt prompt;

    /** The parsed {@code --prompt-ids}, or null; checks them before anything is loaded. */
    int[] ids(CommandLine.Model.CommandSpec spec) {
        return prompt != null && prompt.ids != null ? parseIds(prompt.ids, spec) : null;
    }

    /**
     * The prompt text: {@code --prompt}, or the demo's prompt when the demo model runs and no prompt is given, or null
     * when {@code --prompt-ids} is given.
     *
     * @throws CommandLine.ParameterException when no prompt is given for a model other than the demo
     */
    String text(boolean demo, CommandLine.Model.CommandSpec spec) {
        if (prompt != null) {
            return prompt.text;
        }
        if (!demo) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Missing required argument: give the prompt "
                    + "with --prompt TEXT or --prompt-ids IDS (only the demo model has a default prompt).");
        }
        return DemoCorpus.twoHopPrompt(DEMO_CITY);
    }

    /** The prompt as the model's tokens (special-token rules applied), checked against the vocabulary. */
    TokenSequence tokens(TransformerModel model, boolean demo, CommandLine.Model.CommandSpec spec) {
        int[] ids = ids(spec);
        String modelName = model.config().modelName();
        TokenSequence tokens = ids != null
                ? PromptTokens.prepare(new TokenSequence(ids), model.tokenizer(), modelName)
                : PromptTokens.tokenize(text(demo, spec), model.tokenizer(), modelName);
        return tokens.requireInVocabulary(model.tokenizer().vocabularySize());
    }

    static int[] parseIds(String text, CommandLine.Model.CommandSpec spec) {
        String[] parts = text.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i].trim();
            try {
                out[i] = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '--prompt-ids': '"
                        + p + "' is not a token id; give comma-separated non-negative integers, e.g. 0,17,42.");
            }
            if (out[i] < 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '--prompt-ids': "
                        + "token ids are non-negative, got " + out[i] + ".");
            }
        }
        return out;
    }
}
