package org.circuittracer.transformer.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.circuittracer.transformer.checkpoint.JsonConfig;

/**
 * A tokenizer's special tokens. BOS, EOS, PAD and UNK come from {@code tokenizer_config.json} when it names them,
 * also when it names them {@code null} (Qwen-3 has no BOS although its {@code config.json} has a
 * {@code bos_token_id}, as the Hugging Face tokenizer reports); otherwise from {@code config.json}'s ids.
 *
 * @param bos the beginning-of-sequence id, if any
 * @param eos the end-of-sequence id, if any (the first if {@code config.json} lists several)
 * @param pad the padding id, if any
 * @param all every special id: these, UNK, every EOS id, and the added tokens marked special
 */
record SpecialTokens(OptionalInt bos, OptionalInt eos, OptionalInt pad, Set<Integer> all) {

    /**
     * Reads the special tokens of a model directory.
     *
     * @param encode the tokenizer (text to ids, without special tokens), for tokens that are not added tokens
     */
    static SpecialTokens read(Path directory, TokenizerJson json,
                              Function<String, long[]> encode) {
        Optional<JsonConfig> tokenizerConfig = optional(directory.resolve("tokenizer_config.json"));
        Optional<JsonConfig> modelConfig = optional(directory.resolve("config.json"));
        Lookup lookup = new Lookup(json, tokenizerConfig, modelConfig, encode);
        OptionalInt bos = lookup.id("bos_token", "bos_token_id");
        OptionalInt eos = lookup.id("eos_token", "eos_token_id");
        OptionalInt pad = lookup.id("pad_token", "pad_token_id");
        OptionalInt unk = lookup.id("unk_token", "unk_token_id");
        Set<Integer> all = new HashSet<>(json.specialIds());
        all.addAll(lookup.ids("eos_token_id"));
        Stream.of(bos, eos, pad, unk).forEach(id -> id.ifPresent(all::add));
        return new SpecialTokens(bos, eos, pad, Set.copyOf(all));
    }

    private static Optional<JsonConfig> optional(Path file) {
        return Files.isRegularFile(file) ? Optional.of(JsonConfig.read(file)) : Optional.empty();
    }

    private record Lookup(TokenizerJson json, Optional<JsonConfig> tokenizerConfig, Optional<JsonConfig> modelConfig,
                          Function<String, long[]> encode) {

        /** The id of a special token, if the files give one. */
        OptionalInt id(String tokenField, String idField) {
            if (tokenizerConfig.isPresent() && tokenizerConfig.get().declares(tokenField)) {
                return tokenizerConfig.get().tokenString(tokenField).map(this::idOf).orElse(OptionalInt.empty());
            }
            List<Integer> ids = ids(idField);
            return ids.isEmpty() ? OptionalInt.empty() : OptionalInt.of(ids.get(0));
        }

        /** Every id {@code config.json} gives for a field (Llama 3 instruct lists several EOS ids). */
        List<Integer> ids(String idField) {
            return modelConfig.map(c -> c.ints(idField)).orElse(List.of());
        }

        private OptionalInt idOf(String token) {
            Integer added = json.addedTokens().get(token);
            if (added != null) {
                return OptionalInt.of(added);
            }
            long[] ids = encode.apply(token);
            return ids.length == 1 ? OptionalInt.of(Math.toIntExact(ids[0])) : OptionalInt.empty();
        }
    }
}
