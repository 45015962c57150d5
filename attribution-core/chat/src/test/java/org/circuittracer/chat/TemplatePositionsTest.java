package org.circuittracer.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.Tokenizer;
import org.junit.jupiter.api.Test;

/** Which token positions of a chat prompt come from the template, with the real templates and a test tokenizer. */
class TemplatePositionsTest {

    private static final PieceTokenizer QWEN = new PieceTokenizer(List.of("<|im_start|>", "<|im_end|>"), false);
    private static final PieceTokenizer GEMMA = new PieceTokenizer(List.of("<bos>", "<start_of_turn>",
            "<end_of_turn>"), false);
    private static final PieceTokenizer LLAMA = new PieceTokenizer(List.of("<|begin_of_text|>", "<|start_header_id|>",
            "<|end_header_id|>", "<|eot_id|>"), false);

    /** The prompt's text at the marked positions and at the others. */
    private record Split(String template, String contents) {
    }

    private static Split split(ChatPrompt prompt, Tokenizer tokenizer) {
        StringBuilder template = new StringBuilder();
        StringBuilder contents = new StringBuilder();
        int[] ids = prompt.ids().ids();
        for (int i = 0; i < ids.length; i++) {
            (prompt.templatePositions().contains(i) ? template : contents).append(tokenizer.tokenText(ids[i]));
        }
        return new Split(template.toString(), contents.toString());
    }

    @Test
    void qwen3MarksTurnMarkersRolesAndTheGenerationPrompt() {
        List<ChatMessage> messages = List.of(ChatMessage.user("What is the capital of Texas?"));
        ChatPrompt prompt = RealTemplates.qwen3().prompt(messages, QWEN);

        assertThat(prompt.text()).isEqualTo("<|im_start|>user\nWhat is the capital of Texas?<|im_end|>\n"
                + "<|im_start|>assistant\n");
        assertThat(prompt.ids().ids()).isEqualTo(QWEN.encode(prompt.text(), false));
        assertThat(prompt.warning()).isEmpty();
        // <|im_start|> user \n | What _ is _ the _ capital _ of _ Texas ? | <|im_end|> \n <|im_start|> assistant \n
        assertThat(prompt.templatePositions()).containsExactly(0, 1, 2, 15, 16, 17, 18, 19);
        assertThat(split(prompt, QWEN)).isEqualTo(new Split(
                "<|im_start|>user\n<|im_end|>\n<|im_start|>assistant\n", "What is the capital of Texas?"));
    }

    @Test
    void qwen3WithThinkingDisabledMarksTheEmptyThinkBlockToo() {
        ChatPrompt prompt = RealTemplates.qwen3().prompt(List.of(ChatMessage.user("Hi")), QWEN,
                Map.of("enable_thinking", false));
        assertThat(split(prompt, QWEN)).isEqualTo(new Split(
                "<|im_start|>user\n<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", "Hi"));
    }

    @Test
    void gemma3SystemPrefixAndTrimmedContentsAreContent() {
        List<ChatMessage> messages = List.of(ChatMessage.system("Be brief."), ChatMessage.user("  Capital of Texas? "),
                ChatMessage.assistant("Austin."), ChatMessage.user("Ohio?"));
        ChatPrompt prompt = RealTemplates.gemma3().prompt(messages, GEMMA);

        assertThat(prompt.warning()).isEmpty();
        assertThat(split(prompt, GEMMA)).isEqualTo(new Split(
                "<bos><start_of_turn>user\n\n\n<end_of_turn>\n<start_of_turn>model\n<end_of_turn>\n"
                        + "<start_of_turn>user\n<end_of_turn>\n<start_of_turn>model\n",
                "Be brief.Capital of Texas?Austin.Ohio?"));
        assertThat(prompt.templatePositions()).startsWith(0, 1, 2, 3);
    }

    @Test
    void llamaMarksTheWholeSystemHeaderWithItsDates() {
        ChatPrompt prompt = RealTemplates.llama32().prompt(List.of(ChatMessage.user("Hello")), LLAMA);
        Split split = split(prompt, LLAMA);
        assertThat(split.contents()).isEqualTo("Hello");
        assertThat(split.template()).contains("Today Date: 05 Mar 2025").endsWith("assistant<|end_header_id|>\n\n");
    }

    @Test
    void tokensAcrossABoundaryMarkNothingAndSaySo() {
        PieceTokenizer gpt2Like = new PieceTokenizer(List.of(), true);
        ChatTemplate template = ChatTemplate.of("User: {{ messages[0].content }}\n", Map.of());
        ChatPrompt prompt = template.prompt(List.of(ChatMessage.user("Hello")), gpt2Like);

        assertThat(prompt.text()).isEqualTo("User: Hello");
        assertThat(prompt.ids().ids()).isEqualTo(gpt2Like.encode("User: Hello", false));
        assertThat(prompt.templatePositions()).isEmpty();
        assertThat(prompt.warning()).hasValueSatisfying(w -> assertThat(w).contains("do not line up"));
    }

    @Test
    void contentsWrittenTwiceOrRewrittenMarkNothing() {
        ChatMessage hello = ChatMessage.user("Hello");
        ChatPrompt twice = ChatTemplate.of("{{ messages[0].content }}|{{ messages[0].content }}", Map.of())
                .prompt(List.of(hello), QWEN);
        assertThat(twice.templatePositions()).isEmpty();
        assertThat(twice.warning()).hasValueSatisfying(w -> assertThat(w).contains("exactly once"));

        ChatPrompt upper = ChatTemplate.of("<{{ messages[0].content.upper() }}>", Map.of()).prompt(List.of(hello),
                QWEN);
        assertThat(upper.text()).isEqualTo("<HELLO>");
        assertThat(upper.templatePositions()).isEmpty();
        assertThat(upper.warning()).hasValueSatisfying(w -> assertThat(w).contains("message 1 appears changed"));
    }

    @Test
    void aTemplateThatRefusesPlaceholdersMarksNothing() {
        ChatTemplate picky = ChatTemplate.of("{% if messages[0].content.startswith('\uE000') %}"
                + "{{ raise_exception('odd content') }}{% endif %}<{{ messages[0].content }}>", Map.of());
        ChatPrompt prompt = picky.prompt(List.of(ChatMessage.user("Hello")), QWEN);
        assertThat(prompt.text()).isEqualTo("<Hello>");
        assertThat(prompt.templatePositions()).isEmpty();
        assertThat(prompt.warning()).hasValueSatisfying(w -> assertThat(w).contains("odd content"));
    }

    @Test
    void aTemplateThatDependsOnTheContentMarksNothing() {
        List<ChatMessage> messages = List.of(ChatMessage.user("Capital of Texas?"),
                ChatMessage.assistant("<think>\nDallas is in Texas.\n</think>\n\nAustin."));
        ChatPrompt prompt = RealTemplates.qwen3().prompt(messages, QWEN);
        assertThat(prompt.templatePositions()).isEmpty();
        assertThat(prompt.warning()).isPresent();
    }

    @Test
    void anEmptyContentIsFine() {
        ChatPrompt prompt = RealTemplates.qwen3().prompt(List.of(ChatMessage.user("")), QWEN);
        assertThat(prompt.warning()).isEmpty();
        assertThat(prompt.templatePositions()).hasSize(prompt.ids().length());
    }

    @Test
    void aPrependedTokenIsTemplateAndShiftsTheOthers() {
        ChatPrompt prompt = new ChatPrompt("ab", TokenSequence.of(5, 6, 7), Set.of(0, 2), Optional.empty());
        ChatPrompt prepended = prompt.prependedWith(9);
        assertThat(prepended.ids().ids()).containsExactly(9, 5, 6, 7);
        assertThat(prepended.templatePositions()).containsExactly(0, 1, 3);

        ChatPrompt unmarked = new ChatPrompt("ab", TokenSequence.of(5), Set.of(), Optional.of("why"));
        assertThat(unmarked.prependedWith(9).templatePositions()).isEmpty();
    }

    @Test
    void positionsMustLieInThePrompt() {
        assertThatThrownBy(() -> new ChatPrompt("a", TokenSequence.of(1), Set.of(1), Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class);
        List<Integer> mutable = new ArrayList<>(List.of(0));
        ChatPrompt prompt = new ChatPrompt("a", TokenSequence.of(1), Set.copyOf(mutable), Optional.empty());
        assertThatThrownBy(() -> prompt.templatePositions().add(3)).isInstanceOf(UnsupportedOperationException.class);
    }
}
