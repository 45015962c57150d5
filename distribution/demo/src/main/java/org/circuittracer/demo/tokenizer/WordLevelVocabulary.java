package org.circuittracer.demo.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import org.circuittracer.demo.corpus.DemoCorpus;

/**
 * A word-level vocabulary written as a standard Hugging Face {@code tokenizer.json} ({@code WordLevel} model,
 * {@code Whitespace} pre-tokenizer, no post-processor: the attribution core prepends BOS itself) plus
 * {@code tokenizer_config.json} naming the special tokens. Ids: the four special tokens, then the words sorted.
 */
public final class WordLevelVocabulary {

    public static final String PAD = "<pad>";
    public static final String BOS = "<bos>";
    public static final String EOS = "<eos>";
    public static final String UNK = "<unk>";
    private static final List<String> SPECIAL = List.of(PAD, BOS, EOS, UNK);

    private final Map<String, Integer> ids;
    private final List<String> tokens;

    private WordLevelVocabulary(List<String> tokens) {
        this.tokens = List.copyOf(tokens);
        this.ids = new LinkedHashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            ids.put(tokens.get(i), i);
        }
    }

    /** The vocabulary of every word in {@code texts}. */
    public static WordLevelVocabulary of(Collection<String> texts) {
        TreeSet<String> words = new TreeSet<>();
        for (String text : texts) {
            Matcher m = DemoCorpus.WORDS.matcher(text);
            while (m.find()) {
                words.add(m.group());
            }
        }
        List<String> tokens = new ArrayList<>(SPECIAL);
        tokens.addAll(words);
        return new WordLevelVocabulary(tokens);
    }

    /** The special tokens, then {@code words} in the given order (ids 4, 5, …). */
    public static WordLevelVocabulary ofWords(List<String> words) {
        List<String> tokens = new ArrayList<>(SPECIAL);
        tokens.addAll(words);
        return new WordLevelVocabulary(tokens);
    }

    public int size() {
        return tokens.size();
    }

    public int id(String token) {
        Integer id = ids.get(token);
        return id == null ? ids.get(UNK) : id;
    }

    public String token(int id) {
        return tokens.get(id);
    }

    public int bos() {
        return ids.get(BOS);
    }

    public int eos() {
        return ids.get(EOS);
    }

    public int pad() {
        return ids.get(PAD);
    }

    /** The ids of {@code text}, split as the tokenizer's pre-tokenizer splits it; no special tokens. */
    public int[] encode(String text) {
        List<Integer> out = new ArrayList<>();
        Matcher m = DemoCorpus.WORDS.matcher(text);
        while (m.find()) {
            out.add(id(m.group()));
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Writes {@code tokenizer.json} and {@code tokenizer_config.json} into {@code directory} (128 tokens at most). */
    public void write(Path directory) {
        write(directory, 128);
    }

    /** As {@link #write(Path)}, with {@code model_max_length} {@code maxLength}. */
    public void write(Path directory, int maxLength) {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String special : SPECIAL) {
            ObjectNode t = added.addObject();
            t.put("id", ids.get(special));
            t.put("content", special);
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "Whitespace");
        root.putNull("post_processor");
        root.putNull("decoder");
        ObjectNode model = root.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode vocab = model.putObject("vocab");
        ids.forEach(vocab::put);
        model.put("unk_token", UNK);

        ObjectNode config = json.createObjectNode();
        config.put("bos_token", BOS);
        config.put("eos_token", EOS);
        config.put("pad_token", PAD);
        config.put("unk_token", UNK);
        config.put("model_max_length", maxLength);
        config.put("tokenizer_class", "PreTrainedTokenizerFast");
        try {
            Files.writeString(directory.resolve("tokenizer.json"), json.writeValueAsString(root) + "\n",
                    StandardCharsets.UTF_8);
            Files.writeString(directory.resolve("tokenizer_config.json"), json.writeValueAsString(config) + "\n",
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
