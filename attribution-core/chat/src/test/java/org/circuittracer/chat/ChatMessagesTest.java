package org.circuittracer.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ChatMessagesTest {

    @TempDir
    Path dir;

    @Test
    void chatIsOneUserMessage() {
        assertThat(ChatMessages.ofUserMessage("Hello")).containsExactly(new ChatMessage("user", "Hello"));
    }

    @Test
    void chatFileIsTheListInOrder() throws Exception {
        Path file = Files.writeString(dir.resolve("chat.json"), """
                [{"role": "system", "content": "Be brief."},
                 {"role": "user", "content": "Capital of Texas?"},
                 {"role": "assistant", "content": ""},
                 {"content": "And Ohio?", "role": "user"}]
                """);
        assertThat(ChatMessages.read(file)).containsExactly(ChatMessage.system("Be brief."),
                ChatMessage.user("Capital of Texas?"), ChatMessage.assistant(""), ChatMessage.user("And Ohio?"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"role\": \"user\", \"content\": \"x\"}              | must hold a JSON list of messages",
            "[]                                                      | holds an empty list",
            "[\"hello\"]                                             | message 1 is a string",
            "[{\"role\": \"tool\", \"content\": \"x\"}]              | Unknown chat role 'tool'",
            "[{\"role\": \"user\"}]                                  | message 1 (user) has no \"content\" string",
            "[{\"role\": \"user\", \"content\": 3}]                  | message 1 (user) has no \"content\" string",
            "[{\"content\": \"x\"}]                                  | message 1 has no \"role\" string",
            "[{\"role\": \"user\", \"content\": \"x\", \"name\": 1}] | has the field 'name'",
    })
    void badListsAreRefusedSayingWhatIsWrong(String json, String message) {
        assertThatThrownBy(() -> ChatMessages.parse(json, "The chat file c.json"))
                .isInstanceOfSatisfying(CircuitTracerException.class, ErrorCodes.is(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessageStartingWith("The chat file c.json")
                .hasMessageContaining(message);
    }

    @Test
    void invalidJsonIsAMalformedFile() {
        assertThatThrownBy(() -> ChatMessages.parse("[{\"role\": ", "The chat file c.json"))
                .isInstanceOfSatisfying(CircuitTracerException.class, ErrorCodes.is(StandardErrorCode.MALFORMED_FILE))
                .hasMessageContaining("is not valid JSON");
    }

    @Test
    void aMissingFileIsNamed() {
        Path missing = dir.resolve("nope.json");
        assertThatThrownBy(() -> ChatMessages.read(missing))
                .isInstanceOfSatisfying(CircuitTracerException.class, ErrorCodes.is(StandardErrorCode.FILE_NOT_FOUND))
                .hasMessageContaining(missing.toString());
    }

    @Test
    void messagesNeedAKnownRoleAndContent() {
        assertThatThrownBy(() -> new ChatMessage("robot", "x")).hasMessageContaining("system, user, assistant");
        assertThatThrownBy(() -> new ChatMessage("user", null)).hasMessageContaining("no content");
        assertThat(ChatMessage.ROLES).isEqualTo(List.of("system", "user", "assistant"));
    }
}
