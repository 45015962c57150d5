package org.circuittracer.transformer.tokenizer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * What the Java side needs from a {@code tokenizer.json} (the native tokenizer reads the rest): the vocabulary
 * size and the added tokens. Read with a streaming parser because real files hold 100,000s of vocabulary entries.
 *
 * @param vocabularySize highest id in the vocabulary or the added tokens, plus one
 * @param addedTokens    added token text to id
 * @param specialIds     ids of added tokens marked {@code "special": true}
 * @param nullUnkToken   whether the model says {@code "unk_token": null} (see {@link #withoutNullUnkToken})
 */
record TokenizerJson(int vocabularySize, Map<String, Integer> addedTokens, Set<Integer> specialIds,
                     boolean nullUnkToken) {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    static TokenizerJson read(Path file) {
        int maxId = -1;
        boolean[] nullUnk = {false};
        Map<String, Integer> added = new HashMap<>();
        Set<Integer> special = new HashSet<>();
        try (JsonParser parser = MAPPER.createParser(file.toFile())) {
            expect(parser.nextToken(), JsonToken.START_OBJECT, file);
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if (field.equals("added_tokens") && value == JsonToken.START_ARRAY) {
                    for (JsonNode token : MAPPER.<JsonNode>readValue(parser, JsonNode.class)) {
                        int id = token.path("id").asInt(-1);
                        added.put(token.path("content").asText(), id);
                        if (token.path("special").asBoolean(false)) {
                            special.add(id);
                        }
                        maxId = Math.max(maxId, id);
                    }
                } else if (field.equals("model") && value == JsonToken.START_OBJECT) {
                    maxId = Math.max(maxId, readModel(parser, nullUnk));
                } else {
                    parser.skipChildren();
                }
            }
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " cannot be read as a Hugging "
                    + "Face tokenizer file: " + e.getMessage(), e);
        }
        return new TokenizerJson(maxId + 1, Map.copyOf(added), Set.copyOf(special), nullUnk[0]);
    }

    /**
     * The text of {@code file} with the model's {@code "unk_token": null} replaced. Some writers emit the null for
     * WordLevel models without an unknown token; the Rust library in DJL 0.36 requires a string. A string that is not
     * in the vocabulary means the same: unknown words cannot be encoded.
     */
    static byte[] withoutNullUnkToken(Path file) {
        try {
            JsonNode root = MAPPER.readTree(file.toFile());
            ObjectNode model = (ObjectNode) root.get("model");
            String absent = "<unk>";
            while (model.path("vocab").has(absent)) {
                absent = "<" + absent + ">";
            }
            model.put("unk_token", absent);
            return MAPPER.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " cannot be read: " + e, e);
        }
    }

    /**
     * Inside {@code "model"}: the highest id of {@code "vocab"} ({@code {token: id}}, or Unigram's list of pairs);
     * notes a null {@code unk_token}.
     */
    private static int readModel(JsonParser parser, boolean[] nullUnkToken) throws IOException {
        int maxId = -1;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            JsonToken value = parser.nextToken();
            if (field.equals("vocab") && value == JsonToken.START_OBJECT) {
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    parser.nextToken();
                    maxId = Math.max(maxId, parser.getIntValue());
                }
            } else if (field.equals("unk_token") && value == JsonToken.VALUE_NULL) {
                nullUnkToken[0] = true;
            } else if (field.equals("vocab") && value == JsonToken.START_ARRAY) {
                int count = 0;
                while (parser.nextToken() == JsonToken.START_ARRAY) {
                    parser.skipChildren();
                    count++;
                }
                maxId = Math.max(maxId, count - 1);
            } else {
                parser.skipChildren();
            }
        }
        return maxId;
    }

    private static void expect(JsonToken actual, JsonToken expected, Path file) {
        if (actual != expected) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " must hold a JSON object.");
        }
    }
}
