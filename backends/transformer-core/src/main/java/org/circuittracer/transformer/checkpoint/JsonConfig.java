package org.circuittracer.transformer.checkpoint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * A JSON object from a model directory's configuration ({@code config.json}, {@code tokenizer_config.json}) with
 * typed reads whose errors name the file and the field. JSON {@code null} counts as absent, as in Hugging Face's
 * configuration classes (e.g. {@code "n_inner": null}).
 */
public final class JsonConfig {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Path file;
    private final String prefix; // "" at the top level, "rope_scaling." inside that object
    private final JsonNode node;

    private JsonConfig(Path file, String prefix, JsonNode node) {
        this.file = file;
        this.prefix = prefix;
        this.node = node;
    }

    /**
     * Reads a JSON object file.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND if the file is missing, MALFORMED_FILE if it is not a JSON object
     */
    public static JsonConfig read(Path file) {
        JsonNode root;
        try {
            root = MAPPER.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "There is no " + file.getFileName()
                    + " in " + file.toAbsolutePath().getParent() + "; a Hugging Face model directory needs one.", e);
        } catch (JacksonException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " is not valid JSON: "
                    + e.getOriginalMessage() + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr()
                    + ")") + ". Re-download or fix it.", e);
        } catch (java.io.CharConversionException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " is not UTF-8 JSON text: "
                    + e.getMessage() + ". Re-download or fix it.", e);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot read " + file + ": " + e, e);
        }
        if (root == null || !root.isObject()) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " must hold a JSON object, but it "
                    + "holds " + (root == null ? "nothing" : root.getNodeType().name().toLowerCase()) + ".");
        }
        return new JsonConfig(file, "", root);
    }

    /** The file this object comes from. */
    public Path file() {
        return file;
    }

    /** Whether the field is present and not {@code null}. */
    public boolean has(String field) {
        return value(field) != null;
    }

    /** Whether the field is present at all, even as {@code null} (e.g. {@code "bos_token": null} says "none"). */
    public boolean declares(String field) {
        return node.has(field);
    }

    /** A required integer field that must be positive (a dimension). */
    public int requirePositiveInt(String field) {
        JsonNode v = value(field);
        if (v == null) {
            throw malformed("the required field \"" + prefix + field + "\" is missing");
        }
        return positive(field, v);
    }

    /** An optional positive integer field. */
    public int positiveIntOr(String field, int fallback) {
        JsonNode v = value(field);
        return v == null ? fallback : positive(field, v);
    }

    /** An optional number field. */
    public double doubleOr(String field, double fallback) {
        JsonNode v = value(field);
        if (v == null) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw malformed("\"" + prefix + field + "\" must be a number, but it is " + v);
        }
        return v.doubleValue();
    }

    /** A required number field. */
    public double requireDouble(String field) {
        if (!has(field)) {
            throw malformed("the required field \"" + prefix + field + "\" is missing");
        }
        return doubleOr(field, Double.NaN);
    }

    /** An optional boolean field. */
    public boolean booleanOr(String field, boolean fallback) {
        JsonNode v = value(field);
        if (v == null) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw malformed("\"" + prefix + field + "\" must be true or false, but it is " + v);
        }
        return v.booleanValue();
    }

    /** An optional string field. */
    public Optional<String> string(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return Optional.empty();
        }
        if (!v.isTextual()) {
            throw malformed("\"" + prefix + field + "\" must be a string, but it is " + v);
        }
        return Optional.of(v.textValue());
    }

    /** An optional string field, also accepting Hugging Face's added-token object form {@code {"content": "..."}}. */
    public Optional<String> tokenString(String field) {
        JsonNode v = value(field);
        if (v != null && v.isObject() && v.path("content").isTextual()) {
            return Optional.of(v.get("content").textValue());
        }
        return string(field);
    }

    /** An optional list of strings. */
    public Optional<List<String>> strings(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return Optional.empty();
        }
        List<String> out = new ArrayList<>();
        if (v.isArray()) {
            for (JsonNode e : v) {
                if (!e.isTextual()) {
                    throw malformed("\"" + prefix + field + "\" must be a list of strings, but it holds " + e);
                }
                out.add(e.textValue());
            }
            return Optional.of(List.copyOf(out));
        }
        throw malformed("\"" + prefix + field + "\" must be a list of strings, but it is " + v);
    }

    /** An optional integer or list of integers (e.g. {@code eos_token_id}), as a list. */
    public List<Integer> ints(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return List.of();
        }
        List<Integer> out = new ArrayList<>();
        for (JsonNode e : v.isArray() ? v : List.of(v)) {
            if (!e.canConvertToInt() || !e.isIntegralNumber()) {
                throw malformed("\"" + prefix + field + "\" must be an integer or a list of integers, but it is " + v);
            }
            out.add(e.intValue());
        }
        return List.copyOf(out);
    }

    /** An optional nested object, e.g. {@code rope_scaling}. */
    public Optional<JsonConfig> object(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return Optional.empty();
        }
        if (!v.isObject()) {
            throw malformed("\"" + prefix + field + "\" must be an object, but it is " + v);
        }
        return Optional.of(new JsonConfig(file, prefix + field + ".", v));
    }

    /**
     * This object with {@code defaults} filled in where a field is absent, as Hugging Face's configuration classes
     * do (e.g. the {@code text_config} of a multimodal model lists only what differs from them). An explicit
     * {@code null} stays: it switches a feature off.
     *
     * @param defaults field names to JSON-convertible values (numbers, strings, booleans, lists)
     */
    public JsonConfig withDefaults(java.util.Map<String, ?> defaults) {
        com.fasterxml.jackson.databind.node.ObjectNode copy = node.deepCopy();
        defaults.forEach((field, value) -> {
            if (!copy.has(field)) {
                copy.set(field, MAPPER.valueToTree(value));
            }
        });
        return new JsonConfig(file, prefix, copy);
    }

    /** A MALFORMED_FILE error about this file, e.g. {@code malformed("\"x\" must be positive")}. */
    public CircuitTracerException malformed(String problem) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + ": " + problem + ".");
    }

    private JsonNode value(String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v;
    }

    private int positive(String field, JsonNode v) {
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() <= 0) {
            throw malformed("\"" + prefix + field + "\" must be a positive integer, but it is " + v);
        }
        return v.intValue();
    }
}
