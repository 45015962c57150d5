package org.circuittracer.chat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * Where a model directory keeps its chat template, in Hugging Face's order: {@code chat_template.jinja}, else
 * {@code chat_template} in {@code tokenizer_config.json} (a string, or a list of {@code {name, template}} of which
 * {@code default} is used), else {@code chat_template} in a processor's {@code chat_template.json}. The special-token
 * strings come from {@code tokenizer_config.json} (strings, or objects with a {@code content} field).
 */
final class ChatTemplateFiles {

    static final String JINJA_FILE = "chat_template.jinja";
    static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    static final String PROCESSOR_FILE = "chat_template.json";

    /** The special tokens Hugging Face passes to templates under these names. */
    static final List<String> SPECIAL_TOKENS = List.of("bos_token", "eos_token", "unk_token", "sep_token",
            "pad_token", "cls_token", "mask_token");

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A template text, the file it came from, and the special-token strings. */
    record Loaded(String template, Path origin, Map<String, String> specialTokens) {
    }

    private ChatTemplateFiles() {
    }

    static Loaded read(Path directory) {
        if (!Files.isDirectory(directory)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The model directory " + directory
                    + " does not exist; a chat prompt needs the model's " + JINJA_FILE + " or " + TOKENIZER_CONFIG
                    + ".");
        }
        Path configFile = directory.resolve(TOKENIZER_CONFIG);
        JsonNode config = Files.isRegularFile(configFile) ? json(configFile) : JSON.createObjectNode();
        Map<String, String> special = specialTokens(config, configFile);
        Path jinja = directory.resolve(JINJA_FILE);
        if (Files.isRegularFile(jinja)) {
            return new Loaded(text(jinja), jinja, special);
        }
        if (config.hasNonNull("chat_template")) {
            return new Loaded(template(config.get("chat_template"), configFile), configFile, special);
        }
        Path processor = directory.resolve(PROCESSOR_FILE);
        if (Files.isRegularFile(processor) && json(processor).hasNonNull("chat_template")) {
            return new Loaded(template(json(processor).get("chat_template"), processor), processor, special);
        }
        throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The model in " + directory
                + " has no chat template (no " + JINJA_FILE + ", no \"chat_template\" in " + TOKENIZER_CONFIG
                + "); it is probably not instruction-tuned. Give a plain prompt instead of --chat/--chat-file.");
    }

    private static String template(JsonNode node, Path file) {
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isArray()) {
            List<String> names = new ArrayList<>();
            for (JsonNode entry : node) {
                String name = entry.path("name").asText(null);
                names.add(name);
                if ("default".equals(name) && entry.path("template").isTextual()) {
                    return entry.get("template").asText();
                }
            }
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "The \"chat_template\" list of " + file
                    + " has no template named \"default\" (it has " + names + ").");
        }
        throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "\"chat_template\" in " + file
                + " must be a string or a list of {\"name\", \"template\"} objects, not " + node.getNodeType() + ".");
    }

    private static Map<String, String> specialTokens(JsonNode config, Path file) {
        Map<String, String> tokens = new LinkedHashMap<>();
        for (String name : SPECIAL_TOKENS) {
            JsonNode token = config.get(name);
            if (token == null || token.isNull()) {
                continue;
            }
            JsonNode content = token.isObject() ? token.get("content") : token;
            if (content == null || !content.isTextual()) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "\"" + name + "\" in " + file
                        + " must be a string or an object with a \"content\" string.");
            }
            tokens.put(name, content.asText());
        }
        return tokens;
    }

    private static JsonNode json(Path file) {
        try {
            JsonNode node = JSON.readTree(text(file));
            if (node == null || !node.isObject()) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " must hold a JSON object.");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " is not valid JSON: "
                    + e.getOriginalMessage(), e);
        }
    }

    private static String text(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " cannot be read: "
                    + e.getMessage(), e);
        }
    }
}
