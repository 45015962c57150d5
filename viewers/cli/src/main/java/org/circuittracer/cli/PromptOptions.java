package org.circuittracer.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.circuittracer.chat.ChatMessage;
import org.circuittracer.chat.ChatMessages;
import org.circuittracer.demo.corpus.DemoCorpus;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;

import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * {@code --prompt TEXT}, {@code --prompt-ids IDS}, {@code --chat MESSAGE} or {@code --chat-file FILE} (the last two with
 * {@code --chat-var NAME=VALUE} for the template); with the demo model the Dallas prompt is the default.
 */
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

        @Option(names = "--chat", paramLabel = "MESSAGE", required = true,
                description = "A user message for an instruction-tuned model: the prompt is the model's own chat "
                        + "template (chat_template.jinja or tokenizer_config.json) applied to it, with the generation "
                        + "prompt added (docs/chat.md).")
        String chat;

        @Option(names = "--chat-file", paramLabel = "FILE", required = true,
                description = "A JSON list of {\"role\", \"content\"} messages (system, user, assistant), turned "
                        + "into the prompt like --chat.")
        Path chatFile;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Prompt prompt;

    @Option(names = "--chat-var", paramLabel = "NAME=VALUE",
            description = "A variable of the chat template, as apply_chat_template(..., NAME=VALUE) passes it "
                    + "(repeatable; with --chat or --chat-file): true/false, numbers, or text ('quoted' to keep "
                    + "true as text). E.g. --chat-var enable_thinking=false for Qwen 3's empty thinking block.")
    Map<String, String> chatVars;

    /**
     * The typed {@code --chat-var} values (empty when none is given).
     *
     * @throws CommandLine.ParameterException for a bad name, or variables without a chat to render
     */
    Map<String, Object> chatVariables(CommandLine.Model.CommandSpec spec) {
        if (chatVars == null || chatVars.isEmpty()) {
            return Map.of();
        }
        if (prompt == null || prompt.chat == null && prompt.chatFile == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--chat-var sets a variable of the model's "
                    + "chat template, so it needs --chat MESSAGE or --chat-file FILE; a --prompt or --prompt-ids is "
                    + "used as it is, without a template.");
        }
        return ChatVariables.parse(chatVars, spec);
    }

    /**
     * The conversation of {@code --chat} or {@code --chat-file}, or null when neither is given; a file is read and
     * checked here, before anything is loaded.
     */
    List<ChatMessage> chat() {
        if (prompt == null || prompt.chat == null && prompt.chatFile == null) {
            return null;
        }
        return prompt.chat != null ? ChatMessages.ofUserMessage(prompt.chat) : ChatMessages.read(prompt.chatFile);
    }

    /** The parsed {@code --prompt-ids}, or null; checks them (and that a {@code --prompt} is not empty) before anything
     *  is loaded. */
    int[] ids(CommandLine.Model.CommandSpec spec) {
        if (prompt != null && prompt.text != null && prompt.text.isBlank()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '--prompt': the "
                    + "prompt is empty; give the text to continue, e.g. --prompt \"the cat sat on the\" (or token ids "
                    + "with --prompt-ids).");
        }
        chat(); // a --chat-file is read and checked now, before anything is loaded
        chatVariables(spec); // and so are the template's variables
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
            return prompt.text; // null for --prompt-ids and the chat options
        }
        if (!demo) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Missing required argument: give the prompt "
                    + "with --prompt TEXT, --prompt-ids IDS or --chat MESSAGE (only the demo model has a default prompt).");
        }
        return DemoCorpus.twoHopPrompt(DEMO_CITY);
    }

    /**
     * The prompt as the model's tokens (special-token rules applied; a chat through the model's template), checked
     * against the vocabulary and the model's context, before any forward pass: text that tokenizes to nothing is
     * refused.
     */
    TokenSequence tokens(TransformerModel model, ModelOptions.Resolved resolved, CommandLine.Model.CommandSpec spec) {
        List<ChatMessage> chat = chat();
        if (chat != null) {
            return ChatPrompts.build(chat, resolved.model(), model, chatVariables(spec)).ids();
        }
        int[] ids = ids(spec);
        return PromptAttribution.tokens(model, ids == null ? text(resolved.demo(), spec) : null, ids);
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
