package org.circuittracer.cli;

import org.circuittracer.attribution.replacement.PromptTokens;
import org.circuittracer.demo.corpus.DemoCorpus;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
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

    /** The parsed {@code --prompt-ids}, or null; checks them (and that a {@code --prompt} is not empty) before anything
     *  is loaded. */
    int[] ids(CommandLine.Model.CommandSpec spec) {
        if (prompt != null && prompt.text != null && prompt.text.isBlank()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '--prompt': the "
                    + "prompt is empty; give the text to continue, e.g. --prompt \"the cat sat on the\" (or token ids "
                    + "with --prompt-ids).");
        }
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

    /**
     * The prompt as the model's tokens (special-token rules applied), checked against the vocabulary and the model's
     * context, before any forward pass: text that tokenizes to nothing is refused.
     */
    TokenSequence tokens(TransformerModel model, boolean demo, CommandLine.Model.CommandSpec spec) {
        int[] ids = ids(spec);
        String modelName = model.config().modelName();
        String text = ids == null ? text(demo, spec) : null;
        TokenSequence tokens = ids != null
                ? PromptTokens.prepare(new TokenSequence(ids), model.tokenizer(), modelName)
                : PromptTokens.tokenize(text, model.tokenizer(), modelName);
        tokens.requireInVocabulary(model.tokenizer().vocabularySize());
        if (text != null && onlySpecialTokens(tokens, model)) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The prompt \"" + shorten(text)
                    + "\" tokenizes to no token (only the special token a prompt starts with); give text that the "
                    + "model's tokenizer reads, or token ids with --prompt-ids.");
        }
        int max = model.config().maxPositions();
        if (tokens.length() > max) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The prompt has " + tokens.length()
                    + " tokens (the special token at its start included), more than the " + max + " positions of "
                    + "model '" + modelName + "'; shorten it to at most " + max + " tokens.");
        }
        return tokens;
    }

    /** Whether every token is a special token (BOS and the like): nothing to attribute or explain. */
    static boolean onlySpecialTokens(TokenSequence tokens, TransformerModel model) {
        for (int id : tokens.ids()) {
            if (!model.tokenizer().specialTokenIds().contains(id)) {
                return false;
            }
        }
        return true;
    }

    private static String shorten(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "…";
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
