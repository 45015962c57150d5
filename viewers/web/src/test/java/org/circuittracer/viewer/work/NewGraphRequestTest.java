package org.circuittracer.viewer.work;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.junit.jupiter.api.Test;

/** A new graph's chat: known roles, texts given, within the limits, and instead of a prompt, never with one. */
class NewGraphRequestTest {

    private static NewGraphRequest request(String prompt, int[] ids, List<ChatTurn> chat) {
        return new NewGraphRequest(prompt, ids, "g", 10, 0.95, 0, 8, 0.8, 0.98, List.of(), chat);
    }

    private static void refused(String prompt, int[] ids, List<ChatTurn> chat, String... says) {
        assertThatThrownBy(() -> request(prompt, ids, chat))
                .isInstanceOfSatisfying(CircuitTracerException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains(says);
                });
    }

    @Test
    void aChatTakesThePromptsPlace() {
        List<ChatTurn> chat = List.of(new ChatTurn("system", "Be brief."), new ChatTurn("user", "Hi"));
        NewGraphRequest r = request(null, null, chat);
        assertThat(r.chat()).isEqualTo(chat);
        assertThat(r.prompt()).isNull();
        assertThat(r.promptIds()).isNull();
        // an empty prompt field next to a chat is no prompt
        assertThat(request("", new int[0], chat).chat()).isEqualTo(chat);
        assertThat(request("the cat", null, null).chat()).isNull();
    }

    @Test
    void aChatWithAPromptIsRefused() {
        List<ChatTurn> chat = List.of(new ChatTurn("user", "Hi"));
        refused("the cat", null, chat, "either a chat or a prompt", "not both");
        refused(null, new int[] {1, 2}, chat, "not both");
    }

    @Test
    void unknownRolesAndEmptyMessagesAreRefusedByNumber() {
        refused(null, null, List.of(new ChatTurn("user", "Hi"), new ChatTurn("narrator", "x")),
                "Chat message 2", "'narrator'", "system, user, assistant");
        refused(null, null, List.of(new ChatTurn(null, "x")), "Chat message 1", "'null'");
        refused(null, null, List.of(new ChatTurn("system", "  "), new ChatTurn("user", "Hi")),
                "Chat message 1 (system) is empty");
        refused(null, null, List.of(new ChatTurn("user", null)), "Chat message 1 (user) is empty");
        refused(null, null, Collections.singletonList(null), "Chat message 1");
    }

    @Test
    void anEmptyChatTooManyMessagesOrTooMuchTextAreRefused() {
        refused(null, null, List.of(), "no message");
        List<ChatTurn> many = new ArrayList<>();
        for (int i = 0; i < 101; i++) {
            many.add(new ChatTurn(i % 2 == 0 ? "user" : "assistant", "m" + i));
        }
        refused(null, null, many, "101 messages", "at most 100");
        assertThat(request(null, null, many.subList(0, 100)).chat()).hasSize(100);
        String half = "x".repeat(10_001);
        refused(null, null, List.of(new ChatTurn("system", half), new ChatTurn("user", half)),
                "20002 characters", "at most 20000");
    }

    @Test
    void neitherPromptNorChatNamesAllThree() {
        refused(null, null, null, "prompt", "promptIds", "chat");
    }
}
