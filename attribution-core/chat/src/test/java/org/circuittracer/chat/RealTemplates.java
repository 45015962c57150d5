package org.circuittracer.chat;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

/** The real chat templates stored as test resources, as model directories. */
final class RealTemplates {

    /** 5 March 2025: Llama 3.x writes it as "05 Mar 2025". */
    static final Clock MARCH_5_2025 = Clock.fixed(Instant.parse("2025-03-05T10:15:30Z"), ZoneOffset.UTC);

    private RealTemplates() {
    }

    /** google/gemma-3-*-it: the template inside tokenizer_config.json. */
    static ChatTemplate gemma3() {
        return ChatTemplate.load(directory("gemma-3-it"));
    }

    /** meta-llama/Llama-3.2-*-Instruct: chat_template.jinja, with the clock fixed. */
    static ChatTemplate llama32() {
        return ChatTemplate.load(directory("llama-3.2-instruct")).withClock(MARCH_5_2025);
    }

    /** meta-llama/Llama-3.1-*-Instruct: chat_template.jinja (a fixed date, no strftime_now). */
    static ChatTemplate llama31() {
        return ChatTemplate.load(directory("llama-3.1-instruct")).withClock(MARCH_5_2025);
    }

    /** Qwen/Qwen3-*: chat_template.jinja. */
    static ChatTemplate qwen3() {
        return ChatTemplate.load(directory("qwen3"));
    }

    static Path directory(String name) {
        try {
            return Path.of(RealTemplates.class.getResource("templates/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
