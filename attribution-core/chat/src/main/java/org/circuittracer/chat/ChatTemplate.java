package org.circuittracer.chat;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.circuittracer.chat.jinja.JinjaEnvironment;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.Tokenizer;

/**
 * A model's own chat template, rendered as Hugging Face's {@code apply_chat_template(messages, tokenize=False,
 * add_generation_prompt=...)} renders it: with {@code messages}, {@code add_generation_prompt}, the special-token
 * strings of {@code tokenizer_config.json} ({@code bos_token}, {@code eos_token}, ...) and any extra template variables
 * (e.g. Qwen 3's {@code enable_thinking}). Immutable and thread-safe.
 */
public final class ChatTemplate {

    private final String template;
    private final String origin;
    private final Map<String, String> specialTokens;
    private final Clock clock;
    private final JinjaEnvironment jinja;

    private ChatTemplate(String template, String origin, Map<String, String> specialTokens, Clock clock) {
        this.template = Objects.requireNonNull(template, "template");
        this.origin = origin;
        this.specialTokens = Map.copyOf(specialTokens);
        this.clock = clock;
        this.jinja = new JinjaEnvironment(clock);
    }

    /**
     * The chat template of a Hugging Face model directory ({@code chat_template.jinja}, or {@code chat_template} in
     * {@code tokenizer_config.json}).
     *
     * @throws CircuitTracerException FILE_NOT_FOUND when the directory has no chat template, MALFORMED_FILE when its
     *         files cannot be read
     */
    public static ChatTemplate load(Path modelDirectory) {
        ChatTemplateFiles.Loaded loaded = ChatTemplateFiles.read(modelDirectory);
        return new ChatTemplate(loaded.template(), "the chat template of " + loaded.origin(), loaded.specialTokens(),
                Clock.systemDefaultZone());
    }

    /** A template given as text, with the special-token strings it may reference ({@code bos_token} etc.). */
    public static ChatTemplate of(String template, Map<String, String> specialTokens) {
        return new ChatTemplate(template, "the chat template", specialTokens, Clock.systemDefaultZone());
    }

    /** This template with {@code strftime_now} reading {@code clock} (Llama 3.x writes today's date). */
    public ChatTemplate withClock(Clock clock) {
        return new ChatTemplate(template, origin, specialTokens, Objects.requireNonNull(clock, "clock"));
    }

    /** The template text. */
    public String source() {
        return template;
    }

    /** The special-token strings the template sees, by variable name ({@code bos_token}, ...). */
    public Map<String, String> specialTokens() {
        return specialTokens;
    }

    /** {@link #render(List, boolean, Map)} without extra variables. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /**
     * The prompt text of a conversation.
     *
     * @param variables extra template variables, e.g. {@code enable_thinking=false} for Qwen 3
     * @throws CircuitTracerException INVALID_ARGUMENT when the list is empty or the template refuses the messages
     *         ({@code raise_exception}, e.g. roles that do not alternate), MALFORMED_FILE when the template fails
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> variables) {
        if (messages.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT,
                    "A chat prompt needs at least one message.");
        }
        Map<String, Object> bindings = new LinkedHashMap<>(specialTokens);
        bindings.putAll(variables);
        List<Map<String, Object>> list = new ArrayList<>();
        for (ChatMessage message : messages) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("role", message.role());
            m.put("content", message.content());
            list.add(m);
        }
        bindings.put("messages", list);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        return jinja.render(template, bindings, origin);
    }

    /** {@link #prompt(List, Tokenizer, Map)} without extra variables. */
    public ChatPrompt prompt(List<ChatMessage> messages, Tokenizer tokenizer) {
        return prompt(messages, tokenizer, Map.of());
    }

    /**
     * The prompt for attribution: the conversation rendered with the generation prompt (the model's turn starts next),
     * its tokens (no special tokens added: the template wrote them) and the positions that belong to the template.
     */
    public ChatPrompt prompt(List<ChatMessage> messages, Tokenizer tokenizer, Map<String, ?> variables) {
        String text = render(messages, true, variables);
        return TemplatePositions.of(text, messages, m -> render(m, true, variables), tokenizer);
    }
}
