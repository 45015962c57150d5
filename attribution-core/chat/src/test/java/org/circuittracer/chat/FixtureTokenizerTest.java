package org.circuittracer.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.circuittracer.testkit.SharedFixtures;
import org.circuittracer.transformer.tokenizer.HfTokenizer;
import org.junit.jupiter.api.Test;

/**
 * Template positions with the fixture models' Hugging Face tokenizers (WordLevel, split on whitespace, the special
 * tokens of {@code added_tokens} split out first).
 */
class FixtureTokenizerTest {

    private static final List<ChatMessage> QUESTION = List.of(ChatMessage.user("what is the first time for people"));

    @Test
    void qwen3TurnMarkersAreTemplatePositions() {
        // the fixture vocabulary has no "user"/"assistant", so a template of the Qwen shape without role names
        ChatTemplate template = ChatTemplate.of("{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>\n"
                + "{% endfor %}{% if add_generation_prompt %}<|im_start|>{% endif %}", Map.of());
        try (HfTokenizer tokenizer = HfTokenizer.open(SharedFixtures.resolve("tiny-models/qwen3"))) {
            ChatPrompt prompt = template.prompt(QUESTION, tokenizer);

            assertThat(prompt.text()).isEqualTo("<|im_start|>what is the first time for people<|im_end|>\n<|im_start|>");
            assertThat(prompt.warning()).isEmpty();
            assertThat(prompt.ids().ids()).isEqualTo(tokenizer.encode(prompt.text(), false));
            assertThat(prompt.ids().get(0)).isEqualTo(1); // <|im_start|>, written by the template, not added again
            assertThat(prompt.templatePositions()).containsExactly(0, 8, 9);
        }
    }

    @Test
    void realTemplatesWhoseMarkersTheFixtureCannotSplitOffMarkNothing() {
        // the fixtures know <bos> and <|begin_of_text|> but not the turn markers, so a content's last word and the
        // marker after it form one whitespace-free word: its boundary cannot be told, and nothing is marked
        try (HfTokenizer gemma = HfTokenizer.open(SharedFixtures.resolve("tiny-models/gemma3"));
             HfTokenizer llama = HfTokenizer.open(SharedFixtures.resolve("tiny-models/llama"))) {
            for (ChatPrompt prompt : List.of(RealTemplates.gemma3().prompt(QUESTION, gemma),
                    RealTemplates.llama32().prompt(QUESTION, llama))) {
                assertThat(prompt.templatePositions()).isEmpty();
                assertThat(prompt.warning()).hasValueSatisfying(w -> assertThat(w).contains("do not line up"));
            }
            assertThat(RealTemplates.gemma3().prompt(QUESTION, gemma).ids().get(0)).isEqualTo(2); // <bos>
        }
    }
}
