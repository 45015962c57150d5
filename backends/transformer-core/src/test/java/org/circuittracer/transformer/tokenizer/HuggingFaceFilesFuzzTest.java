package org.circuittracer.transformer.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.circuittracer.testkit.SharedFixtures;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.circuittracer.transformer.architecture.Architectures;
import org.circuittracer.transformer.checkpoint.JsonConfig;
import org.circuittracer.transformer.generation.GenerationConfig;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The Hugging Face files the backends parse themselves: {@code config.json} of each architecture,
 * {@code generation_config.json}, and its own reading of {@code tokenizer.json} and {@code tokenizer_config.json}
 * (the tokenizer proper is DJL's). Seeds are the tiny models of the shared fixtures. docs/develop/fuzzing.md.
 */
class HuggingFaceFilesFuzzTest {

    private static final List<String> MODELS = List.of("gpt2", "llama", "gemma2", "gemma3", "qwen3");

    private static List<byte[]> seeds(String file) throws IOException {
        Path models = SharedFixtures.find().map(f -> f.resolve("tiny-models")).orElse(null);
        Assumptions.assumeTrue(models != null && Files.isDirectory(models), "shared fixtures missing");
        List<byte[]> seeds = new ArrayList<>();
        for (String model : MODELS) {
            Path p = models.resolve(model).resolve(file);
            if (Files.isRegularFile(p)) {
                seeds.add(Files.readAllBytes(p));
            }
        }
        return seeds;
    }

    @Test
    void mutatedModelConfigsLoadOrFailWithCircuitTracerException() throws IOException {
        Fuzzer.Result r = Fuzzer.named("HF config.json").text().seeds(seeds("config.json"))
                .strings(List.of("LlamaForCausalLM", "GPT2LMHeadModel", "Gemma2ForCausalLM", "Qwen3ForCausalLM",
                        "Gemma3ForCausalLM", "gelu_pytorch_tanh", "silu", "rope_scaling", "llama3", "linear"))
                .run((input, dir) -> {
                    Path file = dir.resolve("config.json");
                    Files.write(file, input);
                    JsonConfig config = JsonConfig.read(file);
                    Architectures.find(config);
                    Architectures.require(config).read(config);
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }

    @Test
    void mutatedGenerationConfigsLoadOrFailWithCircuitTracerException() {
        List<String> seeds = List.of("{\"bos_token_id\": 1, \"eos_token_id\": 2, \"do_sample\": true, "
                + "\"temperature\": 0.6, \"top_p\": 0.9, \"top_k\": 50}",
                "{\"eos_token_id\": [1, 106], \"pad_token_id\": 0, \"cache_implementation\": \"hybrid\"}",
                "{\"_from_model_config\": true, \"transformers_version\": \"4.51.0\", \"do_sample\": false}");
        Fuzzer.Result r = Fuzzer.named("generation_config.json").text().seedTexts(seeds)
                .strings(List.of("eos_token_id", "do_sample", "temperature", "top_k", "top_p"))
                .run((input, dir) -> {
                    Files.write(dir.resolve(GenerationConfig.FILE), input);
                    GenerationConfig.read(dir, OptionalInt.of(2), 128);
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }

    @Test
    void mutatedTokenizerFilesLoadOrFailWithCircuitTracerException() throws IOException {
        Fuzzer.Result r = Fuzzer.named("tokenizer.json (our reading)").text().seeds(seeds("tokenizer.json"))
                .strings(List.of("added_tokens", "model", "vocab", "unk_token", "special", "content", "id"))
                .run((input, dir) -> {
                    Path file = dir.resolve("tokenizer.json");
                    Files.write(file, input);
                    TokenizerJson json = TokenizerJson.read(file);
                    if (json.nullUnkToken()) { // only then is it called
                        TokenizerJson.withoutNullUnkToken(file);
                    }
                    SpecialTokens.read(dir, json, text -> new long[] {text.length() % 7});
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }

    @Test
    void mutatedTokenizerConfigsLoadOrFailWithCircuitTracerException() throws IOException {
        List<byte[]> tokenizers = seeds("tokenizer.json");
        Fuzzer.Result r = Fuzzer.named("tokenizer_config.json").text().seeds(seeds("tokenizer_config.json"))
                .strings(List.of("bos_token", "eos_token", "pad_token", "unk_token", "<s>", "</s>", "<eos>"))
                .run((input, dir) -> {
                    Path tokenizer = dir.resolve("tokenizer.json");
                    Files.write(tokenizer, tokenizers.get(0));
                    Files.write(dir.resolve("tokenizer_config.json"), input);
                    SpecialTokens.read(dir, TokenizerJson.read(tokenizer), text -> new long[] {text.length() % 7});
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }

    /** Found by the fuzzer: JSON nested deeper than Jackson allows has no location, and reading it threw an NPE. */
    @Test
    void tooDeepJsonIsMalformed(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, "{\"a\":" + "[".repeat(2_000) + "]".repeat(2_000) + "}");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> JsonConfig.read(file))
                .isInstanceOf(org.circuittracer.spi.CircuitTracerException.class).hasMessageContaining("not valid JSON");
    }

    /** Found by the fuzzer: head_dim 2^31−1 built a rotary table of a billion entries (a hang, then OOM). */
    @Test
    void aHugeHeadDimIsMalformed(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, "{\"architectures\": [\"Qwen3ForCausalLM\"], \"vocab_size\": 192, "
                + "\"hidden_size\": 64, \"intermediate_size\": 96, \"num_hidden_layers\": 3, "
                + "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"head_dim\": 2147483647}");
        JsonConfig config = JsonConfig.read(file);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Architectures.require(config).read(config))
                .isInstanceOf(org.circuittracer.spi.CircuitTracerException.class)
                .hasMessageContaining("larger than any model's attention");
    }

    /** Found by the fuzzer (-Pfuzz): num_hidden_layers 2^31−1 built per-layer settings for ever (a hang). */
    @Test
    void aHugeLayerCountIsMalformed(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, "{\"architectures\": [\"Gemma2ForCausalLM\"], \"vocab_size\": 256, "
                + "\"hidden_size\": 48, \"intermediate_size\": 128, \"num_hidden_layers\": 2147483647, "
                + "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"head_dim\": 16}");
        JsonConfig config = JsonConfig.read(file);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Architectures.require(config).read(config))
                .isInstanceOf(org.circuittracer.spi.CircuitTracerException.class)
                .hasMessageContaining("more layers than any model has");
    }
}
