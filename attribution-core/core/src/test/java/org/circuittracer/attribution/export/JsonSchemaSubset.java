package org.circuittracer.attribution.export;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A validator for the subset of JSON Schema (draft-07) that Neuronpedia's graph schema uses: {@code type} (one or a
 * list), {@code properties}, {@code required}, {@code additionalProperties} (boolean or schema), {@code items},
 * {@code prefixItems}, {@code minItems}, {@code maxItems}, {@code enum}, {@code minimum}, {@code maximum}.
 * Annotations ({@code description}, {@code examples}, ...) are ignored. Unknown keywords fail loudly, so the validator
 * cannot silently pass a schema it does not understand.
 */
final class JsonSchemaSubset {

    private static final List<String> ANNOTATIONS = List.of("$id", "$schema", "title", "version", "description",
            "examples");

    private JsonSchemaSubset() {
    }

    /** The violations of {@code schema} by {@code value}, each as "path: problem"; empty when valid. */
    static List<String> validate(JsonNode schema, JsonNode value) {
        List<String> errors = new ArrayList<>();
        check(schema, value, "$", errors);
        return errors;
    }

    private static void check(JsonNode schema, JsonNode value, String path, List<String> errors) {
        for (Iterator<Map.Entry<String, JsonNode>> it = schema.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String keyword = e.getKey();
            JsonNode arg = e.getValue();
            switch (keyword) {
                case "type" -> {
                    boolean ok = false;
                    if (arg.isArray()) {
                        for (JsonNode t : arg) {
                            ok |= hasType(value, t.asText());
                        }
                    } else {
                        ok = hasType(value, arg.asText());
                    }
                    if (!ok) {
                        errors.add(path + ": expected type " + arg + ", got " + value.getNodeType());
                    }
                }
                case "properties" -> {
                    if (value.isObject()) {
                        for (Iterator<Map.Entry<String, JsonNode>> p = arg.fields(); p.hasNext(); ) {
                            Map.Entry<String, JsonNode> prop = p.next();
                            if (value.has(prop.getKey())) {
                                check(prop.getValue(), value.get(prop.getKey()), path + "." + prop.getKey(), errors);
                            }
                        }
                    }
                }
                case "required" -> {
                    if (value.isObject()) {
                        for (JsonNode r : arg) {
                            if (!value.has(r.asText())) {
                                errors.add(path + ": missing required property '" + r.asText() + "'");
                            }
                        }
                    }
                }
                case "additionalProperties" -> {
                    if (value.isObject()) {
                        JsonNode declared = schema.path("properties");
                        for (Iterator<Map.Entry<String, JsonNode>> p = value.fields(); p.hasNext(); ) {
                            Map.Entry<String, JsonNode> prop = p.next();
                            if (declared.has(prop.getKey())) {
                                continue;
                            }
                            if (arg.isBoolean()) {
                                if (!arg.asBoolean()) {
                                    errors.add(path + ": additional property '" + prop.getKey() + "' not allowed");
                                }
                            } else {
                                check(arg, prop.getValue(), path + "." + prop.getKey(), errors);
                            }
                        }
                    }
                }
                case "items" -> {
                    if (value.isArray()) {
                        for (int i = 0; i < value.size(); i++) {
                            check(arg, value.get(i), path + "[" + i + "]", errors);
                        }
                    }
                }
                case "prefixItems" -> {
                    if (value.isArray()) {
                        for (int i = 0; i < Math.min(arg.size(), value.size()); i++) {
                            check(arg.get(i), value.get(i), path + "[" + i + "]", errors);
                        }
                    }
                }
                case "minItems" -> {
                    if (value.isArray() && value.size() < arg.asInt()) {
                        errors.add(path + ": fewer than " + arg.asInt() + " items");
                    }
                }
                case "maxItems" -> {
                    if (value.isArray() && value.size() > arg.asInt()) {
                        errors.add(path + ": more than " + arg.asInt() + " items");
                    }
                }
                case "enum" -> {
                    boolean found = false;
                    for (JsonNode option : arg) {
                        found |= option.equals(value);
                    }
                    if (!found) {
                        errors.add(path + ": " + value + " is not one of " + arg);
                    }
                }
                case "minimum" -> {
                    if (value.isNumber() && value.asDouble() < arg.asDouble()) {
                        errors.add(path + ": " + value + " < minimum " + arg);
                    }
                }
                case "maximum" -> {
                    if (value.isNumber() && value.asDouble() > arg.asDouble()) {
                        errors.add(path + ": " + value + " > maximum " + arg);
                    }
                }
                default -> {
                    if (!ANNOTATIONS.contains(keyword)) {
                        throw new IllegalArgumentException("unsupported JSON Schema keyword '" + keyword + "' at " + path);
                    }
                }
            }
        }
    }

    private static boolean hasType(JsonNode v, String type) {
        return switch (type) {
            case "object" -> v.isObject();
            case "array" -> v.isArray();
            case "string" -> v.isTextual();
            case "boolean" -> v.isBoolean();
            case "null" -> v.isNull();
            case "number" -> v.isNumber();
            case "integer" -> v.isIntegralNumber() || v.isNumber() && v.asDouble() == Math.rint(v.asDouble())
                    && Double.isFinite(v.asDouble());
            default -> throw new IllegalArgumentException("unknown JSON Schema type '" + type + "'");
        };
    }
}
