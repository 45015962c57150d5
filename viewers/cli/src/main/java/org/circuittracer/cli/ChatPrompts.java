package org.circuittracer.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.circuittracer.chat.ChatMessage;
import org.circuittracer.chat.ChatPrompt;
import org.circuittracer.chat.ChatTemplate;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;

/** A conversation turned into the tokens attribution reads, with the positions its chat template wrote. */
final class ChatPrompts {

    private ChatPrompts() {
    }

    /**
     * {@code messages} rendered by the chat template of the model in {@code modelDirectory} (generation prompt added)
     * and tokenized as attribution tokenizes ids: when a special token is prepended at position 0 (the template did
     * not start with one), the template positions move with it.
     *
     * @throws org.circuittracer.spi.CircuitTracerException FILE_NOT_FOUND when the model has no chat template,
     *         MALFORMED_FILE when it cannot be rendered, INVALID_ARGUMENT for a prompt the model cannot take
     */
    static ChatPrompt build(List<ChatMessage> messages, Path modelDirectory, TransformerModel model) {
        return build(messages, modelDirectory, model, Map.of());
    }

    /**
     * {@link #build(List, Path, TransformerModel)} with extra template variables ({@code --chat-var}), e.g. Qwen 3's
     * {@code enable_thinking}.
     */
    static ChatPrompt build(List<ChatMessage> messages, Path modelDirectory, TransformerModel model,
                            Map<String, ?> variables) {
        ChatPrompt prompt = ChatTemplate.load(modelDirectory).prompt(messages, model.tokenizer(), variables);
        TokenSequence prepared = PromptAttribution.tokens(model, null, prompt.ids().ids());
        if (prepared.length() == prompt.ids().length() + 1) {
            prompt = prompt.prependedWith(prepared.ids()[0]);
        }
        return prompt;
    }

    /** The last user message's text (the default graph name comes from it), or "chat". */
    static String lastUserText(List<ChatMessage> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).role().equals("user") && !messages.get(i).content().isBlank()) {
                return messages.get(i).content();
            }
        }
        return "chat";
    }
}
