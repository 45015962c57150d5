package org.circuittracer.demo.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.circuittracer.demo.corpus.DemoCorpus.Document;
import org.circuittracer.demo.tokenizer.WordLevelVocabulary;
import org.circuittracer.transformer.tokenizer.HfTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The written tokenizer.json, read by the Hugging Face tokenizers library, splits exactly as our encoder does. */
class WordLevelVocabularyTest {

    @Test
    void huggingFaceTokenizerAgreesWithTheVocabulary(@TempDir Path dir) {
        List<Document> docs = new DemoCorpus(3).documents(400);
        WordLevelVocabulary vocabulary = WordLevelVocabulary.of(
                java.util.stream.Stream.concat(DemoCorpus.allSentences().stream(), docs.stream().map(Document::text))
                        .toList());
        vocabulary.write(dir);
        try (HfTokenizer tokenizer = HfTokenizer.open(dir)) {
            assertThat(tokenizer.vocabularySize()).isEqualTo(vocabulary.size());
            assertThat(tokenizer.bosTokenId()).hasValue(vocabulary.bos());
            assertThat(tokenizer.eosTokenId()).hasValue(vocabulary.eos());
            assertThat(tokenizer.padTokenId()).hasValue(vocabulary.pad());
            for (Document d : docs) {
                assertThat(tokenizer.encode(d.text(), false)).as(d.text()).containsExactly(vocabulary.encode(d.text()));
            }
            int[] ids = tokenizer.encode("Fact: the capital of the state containing Dallas is", false);
            assertThat(ids).hasSize(10);
            assertThat(tokenizer.tokenText(ids[8])).isEqualTo("Dallas");
            assertThat(tokenizer.tokenText(ids[1])).isEqualTo(":");
            assertThat(tokenizer.encode("Zanzibar", false)).containsExactly(vocabulary.id(WordLevelVocabulary.UNK));
        }
    }

    @Test
    void idsAreSpecialTokensFirstThenSortedWords() {
        WordLevelVocabulary v = WordLevelVocabulary.of(List.of("b a.", "c"));
        assertThat(v.size()).isEqualTo(8);
        assertThat(v.token(0)).isEqualTo(WordLevelVocabulary.PAD);
        assertThat(v.token(v.bos())).isEqualTo(WordLevelVocabulary.BOS);
        assertThat(v.encode("a b c .")).containsExactly(v.id("a"), v.id("b"), v.id("c"), v.id("."));
        assertThat(v.id("a")).isLessThan(v.id("b"));
    }
}
