package org.circuittracer.attribution.replacement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.Tokenizer;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.Test;

class PromptTokensTest {

    @Test
    void aPromptStartingWithASpecialTokenIsUsedAsItIs() {
        Tokenizer tokenizer = new FakeTokenizer(id(2), id(0), id(1), Set.of(0, 1, 2, 3));
        TokenSequence prompt = TokenSequence.of(2, 17, 5);
        assertThat(PromptTokens.prepare(prompt, tokenizer, "gemma2")).isEqualTo(prompt);
        assertThat(PromptTokens.prepare(TokenSequence.of(1, 17), tokenizer, "gemma2")).isEqualTo(TokenSequence.of(1, 17));
    }

    @Test
    void otherwiseTheFirstOfBosPadEosIsPrepended() {
        assertThat(PromptTokens.prepare(TokenSequence.of(17, 5), new FakeTokenizer(id(2), id(0), id(1), Set.of(0, 1, 2)), "m"))
                .isEqualTo(TokenSequence.of(2, 17, 5));
        // no BOS: PAD
        assertThat(PromptTokens.prepare(TokenSequence.of(17), new FakeTokenizer(NONE, id(7), id(1), Set.of(1, 7)), "m"))
                .isEqualTo(TokenSequence.of(7, 17));
        // none of the three: the smallest other special id
        assertThat(PromptTokens.prepare(TokenSequence.of(17), new FakeTokenizer(NONE, NONE, NONE, Set.of(9, 4)), "m"))
                .isEqualTo(TokenSequence.of(4, 17));
    }

    /** The reference skips id 0 (it is falsy in Python); here id 0 is a token like any other. */
    @Test
    void idZeroIsAValidSpecialTokenUnlikeInTheReference() {
        // llama fixture: BOS <|begin_of_text|> = 0, EOS = 1: the reference would prepend EOS, we prepend BOS
        assertThat(PromptTokens.prepare(TokenSequence.of(17), new FakeTokenizer(id(0), NONE, id(1), Set.of(0, 1, 2)), "m"))
                .isEqualTo(TokenSequence.of(0, 17));
        try (TransformerModel llama = TinyFixtures.openModel("llama");
             SparseDictionary dictionary = TinyFixtures.openDictionary("llama-plt-relu")) {
            ReplacementModel replacement = ReplacementModel.of(llama, dictionary);
            assertThat(replacement.tokenize("the a of")).isEqualTo(TokenSequence.of(0, 3, 4, 5));
            assertThat(replacement.prepare(TokenSequence.of(3, 4))).isEqualTo(TokenSequence.of(0, 3, 4));
            assertThat(replacement.zeroedPositions(TokenSequence.of(0, 3, 4))).containsExactly(0);
        }
    }

    @Test
    void fixtureTokenizersFollowTheRule() {
        // qwen3 has no BOS; its PAD <|endoftext|> = 0 comes first. gemma2 has BOS = 2.
        for (String[] modelAndDictionary : new String[][] {{"qwen3", "qwen3-plt-relu"}, {"gemma2", "gemma2-plt-jumprelu"},
                {"gpt2", "gpt2-plt-relu"}}) {
            try (TransformerModel model = TinyFixtures.openModel(modelAndDictionary[0]);
                 SparseDictionary dictionary = TinyFixtures.openDictionary(modelAndDictionary[1])) {
                ReplacementModel replacement = ReplacementModel.of(model, dictionary);
                int expected = modelAndDictionary[0].equals("gemma2") ? 2 : 0;
                TokenSequence tokens = replacement.tokenize("the");
                assertThat(tokens.length()).isEqualTo(2);
                assertThat(tokens.get(0)).as(modelAndDictionary[0]).isEqualTo(expected);
                assertThat(replacement.tokenize("")).isEqualTo(TokenSequence.of(expected));
            }
        }
    }

    @Test
    void aTokenizerWithoutSpecialTokensIsAClearError() {
        assertThatThrownBy(() -> PromptTokens.prepare(TokenSequence.of(3), new FakeTokenizer(NONE, NONE, NONE, Set.of()), "m"))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining("no special token");
    }

    @Test
    void instructionTunedGemma3NeedsTheChatPrefixAndZeroesFourPositions() {
        Tokenizer tokenizer = new FakeTokenizer(id(2), id(0), id(1), Set.of(0, 1, 2, 105, 106));
        TokenSequence chat = TokenSequence.of(2, 105, 2364, 107, 40, 41);
        assertThat(PromptTokens.prepare(chat, tokenizer, "gemma-3-1b-it")).isEqualTo(chat);
        assertThat(PromptTokens.zeroedPositions("gemma-3-1b-it")).containsExactlyInAnyOrder(0, 1, 2, 3);
        assertThat(PromptTokens.zeroedPositions("gemma-3-1b-pt")).containsExactly(0);
        assertThatThrownBy(() -> PromptTokens.prepare(TokenSequence.of(2, 40), tokenizer, "google/gemma-3-4b-it"))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining("[2, 105, 2364, 107]");
    }

    private static final OptionalInt NONE = OptionalInt.empty();

    private static OptionalInt id(int id) {
        return OptionalInt.of(id);
    }

    /** Only the special-token queries matter here. */
    private record FakeTokenizer(OptionalInt bos, OptionalInt pad, OptionalInt eos, Set<Integer> special)
            implements Tokenizer {
        @Override
        public int[] encode(String text, boolean addSpecialTokens) {
            return text.isBlank() ? new int[0] : text.chars().map(c -> c - 'a' + 10).toArray();
        }

        @Override
        public List<String> tokenStrings(String text) {
            return List.of();
        }

        @Override
        public String decode(int[] ids, boolean skipSpecialTokens) {
            return "";
        }

        @Override
        public String tokenText(int id) {
            return "t" + id;
        }

        @Override
        public int vocabularySize() {
            return 3000;
        }

        @Override
        public Set<Integer> specialTokenIds() {
            return special;
        }

        @Override
        public OptionalInt bosTokenId() {
            return bos;
        }

        @Override
        public OptionalInt eosTokenId() {
            return eos;
        }

        @Override
        public OptionalInt padTokenId() {
            return pad;
        }
    }
}
