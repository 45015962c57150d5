package org.circuittracer.transcoders.common;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * A JSON configuration file of another tool, read as a tree with typed, lenient-about-absence accessors whose errors
 * name the file and the key.
 *
 * @param file the file
 * @param root its top-level object
 */
public record JsonFiles(Path file, JsonNode root) {

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

    /** Reads {@code file}, which must hold a JSON object. */
    public static JsonFiles read(Path file) {
        try {
            JsonNode root = JSON.readTree(Files.readString(file));
            if (root == null || !root.isObject()) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " is not a JSON object.");
            }
            return new JsonFiles(file, root);
        } catch (NoSuchFileException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, file + " does not exist.", e);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " is not UTF-8 text, so not "
                    + "a JSON file.", e);
        } catch (JsonProcessingException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " is not valid JSON: "
                    + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot read " + file + ": " + e, e);
        }
    }

    /** The value at a dotted path ({@code metadata.hook_name}), absent for missing or null. */
    public Optional<JsonNode> node(String path) {
        JsonNode node = root;
        for (String part : path.split("\\.")) {
            node = node == null || !node.isObject() ? null : node.get(part);
        }
        return node == null || node.isNull() ? Optional.empty() : Optional.of(node);
    }

    public Optional<String> text(String path) {
        return node(path).map(n -> {
            if (!n.isTextual()) {
                throw error(path, "must be a string, got " + n);
            }
            return n.asText();
        });
    }

    public OptionalInt integer(String path) {
        Optional<JsonNode> node = node(path);
        if (node.isEmpty()) {
            return OptionalInt.empty();
        }
        JsonNode n = node.get();
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 0) {
            throw error(path, "must be a whole number >= 0, got " + n);
        }
        return OptionalInt.of(n.asInt());
    }

    public int requiredInteger(String path) {
        return integer(path).orElseThrow(() -> error(path, "is missing"));
    }

    public boolean flag(String path) {
        return node(path).map(n -> {
            if (!n.isBoolean()) {
                throw error(path, "must be true or false, got " + n);
            }
            return n.asBoolean();
        }).orElse(false);
    }

    public CircuitTracerException error(String path, String problem) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + ": " + path + " " + problem + ".");
    }
}
