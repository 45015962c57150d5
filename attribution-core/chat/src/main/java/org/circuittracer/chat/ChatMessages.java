package org.circuittracer.chat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * The conversations the command line accepts: {@code --chat "message"} (one user message) and {@code --chat-file}
 * (a JSON list of {@code {"role": ..., "content": ...}} objects, in order).
 */
public final class ChatMessages {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SHAPE = "[{\"role\": \"user\", \"content\": \"...\"}, ...]";

    private ChatMessages() {
    }

    /** {@code --chat "message"}: one user message. */
    public static List<ChatMessage> ofUserMessage(String message) {
        if (message == null) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "--chat needs the message text.");
        }
        return List.of(ChatMessage.user(message));
    }

    /**
     * {@code --chat-file}: the messages of a JSON file.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND when the file is missing, MALFORMED_FILE when it is not JSON,
     *         INVALID_ARGUMENT when it is not a non-empty list of messages
     */
    public static List<ChatMessage> read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The chat file " + file
                    + " does not exist; give a JSON file with a list of messages " + SHAPE + ".");
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "The chat file " + file
                    + " cannot be read: " + e.getMessage(), e);
        }
        return parse(text, "The chat file " + file);
    }

    /**
     * The messages of a JSON text.
     *
     * @param source names the text in error messages, e.g. "The chat file /tmp/chat.json"
     */
    public static List<ChatMessage> parse(String json, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, source + " is not valid JSON ("
                    + e.getOriginalMessage() + "); it should hold a list of messages " + SHAPE + ".", e);
        }
        if (root == null || !root.isArray()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, source
                    + " must hold a JSON list of messages " + SHAPE + ", not " + describe(root) + ".");
        }
        if (root.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, source
                    + " holds an empty list; give at least one message " + SHAPE + ".");
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            messages.add(message(root.get(i), source + ", message " + (i + 1)));
        }
        return List.copyOf(messages);
    }

    private static ChatMessage message(JsonNode node, String where) {
        if (!node.isObject()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, where + " is " + describe(node)
                    + "; each message is an object {\"role\": ..., \"content\": ...}.");
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals("role") && !name.equals("content")) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, where + " has the field '" + name
                        + "'; a message has only \"role\" and \"content\".");
            }
        }
        JsonNode role = node.get("role");
        JsonNode content = node.get("content");
        if (role == null || !role.isTextual()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, where + " has no \"role\" string; "
                    + "give one of " + String.join(", ", ChatMessage.ROLES) + ".");
        }
        if (content == null || !content.isTextual()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, where + " (" + role.asText()
                    + ") has no \"content\" string; give the message text as \"content\".");
        }
        try {
            return new ChatMessage(role.asText(), content.asText());
        } catch (CircuitTracerException e) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, where + ": " + e.getMessage(), e);
        }
    }

    private static String describe(JsonNode node) {
        if (node == null || node.isMissingNode()) {
            return "nothing";
        }
        return switch (node.getNodeType()) {
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> node.getNodeType().toString().toLowerCase(Locale.ROOT);
        };
    }
}
