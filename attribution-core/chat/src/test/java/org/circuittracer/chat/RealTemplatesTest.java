package org.circuittracer.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The real templates of Gemma 3, Llama 3.1 and 3.2 and Qwen 3 render the formats those models are documented to expect. */
class RealTemplatesTest {

    private static final List<ChatMessage> HELLO = List.of(ChatMessage.user("Hello"));
    private static final List<ChatMessage> CONVERSATION = List.of(
            ChatMessage.system("Be brief."),
            ChatMessage.user("What is the capital of Texas?"),
            ChatMessage.assistant("Austin."),
            ChatMessage.user("And of Ohio?"));

    @Nested
    class Gemma3 {

        @Test
        void oneUserMessage() {
            assertThat(RealTemplates.gemma3().render(HELLO, true))
                    .isEqualTo("<bos><start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\n");
        }

        @Test
        void withoutGenerationPromptTheLastTurnIsClosed() {
            assertThat(RealTemplates.gemma3().render(HELLO, false))
                    .isEqualTo("<bos><start_of_turn>user\nHello<end_of_turn>\n");
        }

        @Test
        void systemMessageGoesIntoTheFirstUserTurnAndAssistantIsModel() {
            assertThat(RealTemplates.gemma3().render(CONVERSATION, true)).isEqualTo(
                    "<bos><start_of_turn>user\nBe brief.\n\nWhat is the capital of Texas?<end_of_turn>\n"
                            + "<start_of_turn>model\nAustin.<end_of_turn>\n"
                            + "<start_of_turn>user\nAnd of Ohio?<end_of_turn>\n"
                            + "<start_of_turn>model\n");
        }

        @Test
        void contentsAreTrimmed() {
            assertThat(RealTemplates.gemma3().render(List.of(ChatMessage.user("  Hello\n")), true))
                    .isEqualTo("<bos><start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\n");
        }

        @Test
        void rolesThatDoNotAlternateAreRefusedWithTheTemplatesMessage() {
            List<ChatMessage> twoUsers = List.of(ChatMessage.user("a"), ChatMessage.user("b"));
            assertThatThrownBy(() -> RealTemplates.gemma3().render(twoUsers, true))
                    .isInstanceOfSatisfying(CircuitTracerException.class, ErrorCodes.is(StandardErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("Conversation roles must alternate user/assistant/user/assistant/...")
                    .hasMessageContaining("tokenizer_config.json");
        }
    }

    @Nested
    class Llama32 {

        private static final String SYSTEM_HEADER = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                + "Cutting Knowledge Date: December 2023\nToday Date: 05 Mar 2025\n\n";

        @Test
        void oneUserMessageGetsTheSystemHeaderWithTodaysDate() {
            assertThat(RealTemplates.llama32().render(HELLO, true)).isEqualTo(SYSTEM_HEADER + "<|eot_id|>"
                    + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
                    + "<|start_header_id|>assistant<|end_header_id|>\n\n");
        }

        @Test
        void systemMessageFollowsTheDatesAndTurnsFollowInOrder() {
            assertThat(RealTemplates.llama32().render(CONVERSATION, true)).isEqualTo(SYSTEM_HEADER + "Be brief.<|eot_id|>"
                    + "<|start_header_id|>user<|end_header_id|>\n\nWhat is the capital of Texas?<|eot_id|>"
                    + "<|start_header_id|>assistant<|end_header_id|>\n\nAustin.<|eot_id|>"
                    + "<|start_header_id|>user<|end_header_id|>\n\nAnd of Ohio?<|eot_id|>"
                    + "<|start_header_id|>assistant<|end_header_id|>\n\n");
        }

        @Test
        void aGivenDateStringWins() {
            assertThat(RealTemplates.llama32().render(HELLO, true, Map.of("date_string", "26 Jul 2024")))
                    .contains("Today Date: 26 Jul 2024\n\n<|eot_id|>");
        }
    }

    @Nested
    class Llama31 {

        @Test
        void theSystemHeaderCarriesTheTemplatesFixedDate() {
            assertThat(RealTemplates.llama31().render(HELLO, true)).isEqualTo(
                    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                            + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>"
                            + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
                            + "<|start_header_id|>assistant<|end_header_id|>\n\n");
        }
    }

    @Nested
    class Qwen3 {

        @Test
        void oneUserMessage() {
            assertThat(RealTemplates.qwen3().render(HELLO, true))
                    .isEqualTo("<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n");
        }

        @Test
        void thinkingDisabledAddsTheEmptyThinkBlock() {
            assertThat(RealTemplates.qwen3().render(HELLO, true, Map.of("enable_thinking", false)))
                    .isEqualTo("<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
        }

        @Test
        void thinkingEnabledAddsNothing() {
            assertThat(RealTemplates.qwen3().render(HELLO, true, Map.of("enable_thinking", true)))
                    .isEqualTo("<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n");
        }

        @Test
        void systemAndEarlierTurnsWithTheirReasoningDropped() {
            List<ChatMessage> messages = List.of(
                    ChatMessage.system("Be brief."),
                    ChatMessage.user("What is the capital of Texas?"),
                    ChatMessage.assistant("<think>\nDallas is in Texas.\n</think>\n\nAustin."),
                    ChatMessage.user("And of Ohio?"));
            assertThat(RealTemplates.qwen3().render(messages, true)).isEqualTo(
                    "<|im_start|>system\nBe brief.<|im_end|>\n"
                            + "<|im_start|>user\nWhat is the capital of Texas?<|im_end|>\n"
                            + "<|im_start|>assistant\nAustin.<|im_end|>\n"
                            + "<|im_start|>user\nAnd of Ohio?<|im_end|>\n"
                            + "<|im_start|>assistant\n");
        }

        @Test
        void theLastAssistantTurnKeepsItsReasoning() {
            List<ChatMessage> messages = List.of(
                    ChatMessage.user("Capital of Texas?"),
                    ChatMessage.assistant("<think>\nDallas is in Texas.\n</think>\n\nAustin."));
            assertThat(RealTemplates.qwen3().render(messages, false)).isEqualTo(
                    "<|im_start|>user\nCapital of Texas?<|im_end|>\n"
                            + "<|im_start|>assistant\n<think>\nDallas is in Texas.\n</think>\n\nAustin.<|im_end|>\n");
        }
    }
}
