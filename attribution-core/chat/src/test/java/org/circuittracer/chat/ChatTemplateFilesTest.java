package org.circuittracer.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.AbstractThrowableAssert;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Where a model directory keeps its template and special tokens. */
class ChatTemplateFilesTest {

    private static final List<ChatMessage> HI = List.of(ChatMessage.user("hi"));

    @TempDir
    Path dir;

    private void write(String name, String text) throws Exception {
        Files.writeString(dir.resolve(name), text);
    }

    private AbstractThrowableAssert<?, ? extends Throwable> loadingFails(StandardErrorCode code) {
        return assertThatThrownBy(() -> ChatTemplate.load(dir))
                .isInstanceOfSatisfying(CircuitTracerException.class, ErrorCodes.is(code));
    }

    @Test
    void templateStringInTokenizerConfigWithSpecialTokensAsStringsOrObjects() throws Exception {
        write("tokenizer_config.json", """
                {"bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
                 "eos_token": "</s>", "unk_token": null,
                 "chat_template": "{{ bos_token }}[{{ messages[0].content }}]{{ eos_token }}"}
                """);
        ChatTemplate template = ChatTemplate.load(dir);
        assertThat(template.specialTokens()).isEqualTo(Map.of("bos_token", "<s>", "eos_token", "</s>"));
        assertThat(template.render(HI, true)).isEqualTo("<s>[hi]</s>");
    }

    @Test
    void chatTemplateJinjaWinsOverTokenizerConfig() throws Exception {
        write("tokenizer_config.json", "{\"bos_token\": \"<s>\", \"chat_template\": \"config\"}");
        write("chat_template.jinja", "jinja {{ bos_token }}\n");
        assertThat(ChatTemplate.load(dir).render(HI, true)).isEqualTo("jinja <s>");
    }

    @Test
    void namedTemplatesUseDefault() throws Exception {
        write("tokenizer_config.json", """
                {"chat_template": [{"name": "tool_use", "template": "tools"},
                                   {"name": "default", "template": "default {{ messages|length }}"}]}
                """);
        assertThat(ChatTemplate.load(dir).render(HI, true)).isEqualTo("default 1");
    }

    @Test
    void processorChatTemplateJsonIsTheLastResort() throws Exception {
        write("chat_template.json", "{\"chat_template\": \"processor\"}");
        assertThat(ChatTemplate.load(dir).render(HI, false)).isEqualTo("processor");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "`{\"chat_template\": [{\"name\": \"rag\", \"template\": \"x\"}]}` | MALFORMED_FILE | no template named \"default\" (it has [rag])",
            "`{\"bos_token\": \"<s>\"}`                                  | FILE_NOT_FOUND | no chat template",
            "`{\"chat_template\": `                                      | MALFORMED_FILE | tokenizer_config.json is not valid JSON",
            "`{\"chat_template\": \"x\", \"eos_token\": 7}`                | MALFORMED_FILE | \"eos_token\"",
            "`{\"chat_template\": 7}`                                   | MALFORMED_FILE | must be a string or a list",
    })
    void badConfigurationsAreRefusedSayingWhy(String config, StandardErrorCode code, String message) throws Exception {
        write("tokenizer_config.json", config);
        loadingFails(code).hasMessageContaining(message);
    }

    @Test
    void aMissingDirectoryIsNamed() {
        Path missing = dir.resolve("absent");
        assertThatThrownBy(() -> ChatTemplate.load(missing)).hasMessageContaining(missing.toString());
    }

    @Test
    void anEmptyConversationIsRefused() {
        assertThatThrownBy(() -> ChatTemplate.of("x", Map.of()).render(List.of(), true))
                .hasMessageContaining("at least one message");
    }
}
