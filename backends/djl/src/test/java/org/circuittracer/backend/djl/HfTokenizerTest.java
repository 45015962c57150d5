package org.circuittracer.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.Precision;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.transformer.tokenizer.HfTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The fixture tokenizers (WordLevel, whitespace split) through DJL's native tokenizers library. */
class HfTokenizerTest {

    private static final String TEXT = "the cat is in the house";

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama", "gemma2", "qwen3"})
    void encodesAndDecodesRoundTrip(String architecture) {
        try (HfTokenizer tokenizer = HfTokenizer.open(TinyModels.directory(architecture))) {
            String text = firstWords(tokenizer, 12);
            int[] ids = tokenizer.encode(text, false);
            assertThat(ids).hasSize(12);
            assertThat(tokenizer.decode(ids, false)).isEqualTo(text);
            assertThat(tokenizer.tokenStrings(text)).containsExactly(text.split(" "));
            assertThat(tokenizer.tokenText(ids[0])).isEqualTo(text.split(" ")[0]);
            assertThat(tokenizer.encode("", false)).isEmpty();
        }
    }

    @Test
    void longTextsAreNotTruncated() {
        try (HfTokenizer tokenizer = HfTokenizer.open(TinyModels.directory("llama"))) {
            String text = String.join(" ", Collections.nCopies(300, TEXT)); // 1,800 tokens, beyond DJL's default 512
            assertThat(tokenizer.encode(text, false)).hasSize(1800);
            assertThat(tokenizer.tokenStrings(text)).hasSize(1800);
        }
    }

    @Test
    void aWordOutsideAVocabularyWithoutUnknownTokenIsAClearError() {
        try (HfTokenizer qwen = HfTokenizer.open(TinyModels.directory("qwen3"));
             HfTokenizer llama = HfTokenizer.open(TinyModels.directory("llama"))) {
            assertThatThrownBy(() -> qwen.encode("the zyzzyva", false))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("cannot be tokenised");
            assertThat(llama.encode("the zyzzyva", false)).containsExactly(3, 2); // <unk> = 2
            // surface strings are cut from the text, also past characters outside the Basic Multilingual Plane
            assertThat(llama.tokenStrings("the \uD83D\uDE00 zyzzyva the")).containsExactly("the", "\uD83D\uDE00",
                    "zyzzyva", "the");
        }
    }

    @ParameterizedTest
    @CsvSource({"gpt2, 0, 0, -1, 128", "llama, 0, 1, -1, 160", "gemma2, 2, 1, 0, 256", "qwen3, -1, 2, 0, 192"})
    void specialTokensComeFromTheTokenizerConfiguration(String architecture, int bos, int eos, int pad, int vocabulary) {
        try (HfTokenizer tokenizer = HfTokenizer.open(TinyModels.directory(architecture))) {
            assertThat(tokenizer.bosTokenId()).as("bos").isEqualTo(idOrNone(bos));
            assertThat(tokenizer.eosTokenId()).as("eos").isEqualTo(idOrNone(eos));
            assertThat(tokenizer.padTokenId()).as("pad").isEqualTo(idOrNone(pad));
            assertThat(tokenizer.vocabularySize()).isEqualTo(vocabulary);
            Set<Integer> expected = IntStream.of(bos, eos, pad).filter(id -> id >= 0).boxed()
                    .collect(Collectors.toSet());
            assertThat(tokenizer.specialTokenIds()).containsAll(expected);
            assertThat(tokenizer.decode(new int[] {eos}, true)).isEmpty();
        }
    }

    @Test
    void theModelOpensItsTokenizerOnFirstUse(@TempDir Path dir) throws Exception {
        try (TransformerModel model = TinyModels.open("gemma2")) {
            assertThat(model.tokenizer().encode("<bos> the", false)).containsExactly(2, 4);
        }
        TinyModels.copy("llama", dir);
        Files.delete(dir.resolve("tokenizer.json"));
        try (TransformerModel model = TinyModels.open(dir, Precision.FLOAT32)) {
            assertThatThrownBy(model::tokenizer).isInstanceOfSatisfying(CircuitTracerException.class,
                    e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.FILE_NOT_FOUND))
                    .hasMessageContaining("tokenizer.json");
        }
    }

    /** {@code count} ordinary vocabulary words, by id after the special tokens. */
    private static String firstWords(HfTokenizer tokenizer, int count) {
        List<String> words = IntStream.range(0, tokenizer.vocabularySize())
                .filter(id -> !tokenizer.specialTokenIds().contains(id) && id > 3)
                .mapToObj(tokenizer::tokenText).limit(count).toList();
        return String.join(" ", words);
    }

    /** The tables write -1 for a token the tokenizer lacks. */
    private static OptionalInt idOrNone(int id) {
        return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }
}
