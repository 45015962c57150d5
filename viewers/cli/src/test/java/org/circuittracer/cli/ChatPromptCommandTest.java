package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.circuittracer.testkit.SharedFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code attribute --chat} and {@code --chat-file}: the prompt is the model's own chat template applied to the
 * messages, and the positions the template wrote are recorded for the viewer. On a copy of the tiny Qwen-3 fixture
 * with a template of Qwen's shape (the fixture's word-level vocabulary has the turn markers but not the role names).
 */
class ChatPromptCommandTest {

    private static final String TEMPLATE = "{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>\n"
            + "{% endfor %}{% if add_generation_prompt %}<|im_start|>{% endif %}";

    @TempDir
    Path dir;

    /** Qwen 3's generation prompt, its empty thinking block in words of the fixture's vocabulary. */
    private static final String THINKING_TEMPLATE = "{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>\n"
            + "{% endfor %}{% if add_generation_prompt %}<|im_start|>"
            + "{% if enable_thinking is defined and enable_thinking is false %} think think{% endif %}{% endif %}";

    private Path chatModel() throws IOException {
        return chatModel(dir, TEMPLATE);
    }

    /** A copy of the tiny Qwen-3 fixture in {@code dir} with {@code template} as its chat_template.jinja. */
    static Path chatModel(Path dir, String template) throws IOException {
        Path model = dir.resolve("qwen3-chat");
        Files.createDirectories(model);
        try (Stream<Path> files = Files.list(SharedFixtures.resolve("tiny-models/qwen3"))) {
            for (Path f : files.toList()) {
                Files.copy(f, model.resolve(f.getFileName().toString()));
            }
        }
        Files.writeString(model.resolve("chat_template.jinja"), template);
        return model;
    }

    private CircuitTracerCommandTest.Run attribute(Path model, String... prompt) {
        List<String> args = new ArrayList<>(List.of("attribute", "--model", model.toString(), "--transcoders",
                SharedFixtures.resolve("tiny-transcoders/qwen3-plt-relu").toString(), "--graph-file-dir",
                dir.resolve("graphs").toString(), "--max-feature-nodes", "8", "-q"));
        args.addAll(List.of(prompt));
        return CircuitTracerCommandTest.run(args.toArray(String[]::new));
    }

    @Test
    void aChatMessageIsAttributedThroughTheTemplateWithItsMarkersRecorded() throws IOException {
        CircuitTracerCommandTest.Run r = attribute(chatModel(), "--chat", "what is the first time for people");
        assertThat(r.exit()).as(r.err()).isZero();
        // the default name comes from the user's message
        JsonNode metadata = new ObjectMapper().readTree(dir.resolve("graphs/what-is-the-first-time-for-people.json")
                .toFile()).get("metadata");
        List<String> tokens = new ArrayList<>();
        metadata.get("prompt_tokens").forEach(t -> tokens.add(t.asText()));
        // <|im_start|> what is the first time for people <|im_end|> <|im_start|> (the newline is not a word here)
        assertThat(tokens).hasSize(10);
        assertThat(tokens.get(0)).isEqualTo("<|im_start|>");
        assertThat(tokens.get(9)).isEqualTo("<|im_start|>");
        List<Integer> marked = new ArrayList<>();
        metadata.get("template_positions").forEach(p -> marked.add(p.asInt()));
        assertThat(marked).containsExactly(0, 8, 9);
    }

    @Test
    void aChatFileGivesTheSameGraphAsTheSameMessageOnTheCommandLine() throws IOException {
        Path model = chatModel();
        Path file = dir.resolve("chat.json");
        Files.writeString(file, "[{\"role\": \"user\", \"content\": \"what is the first time for people\"}]");
        assertThat(attribute(model, "--chat-file", file.toString(), "--slug", "from-file").exit()).isZero();
        assertThat(attribute(model, "--chat", "what is the first time for people", "--slug", "from-line").exit())
                .isZero();
        ObjectMapper json = new ObjectMapper();
        JsonNode a = json.readTree(dir.resolve("graphs/from-file.json").toFile());
        JsonNode b = json.readTree(dir.resolve("graphs/from-line.json").toFile());
        assertThat(a.get("nodes")).isEqualTo(b.get("nodes"));
        assertThat(a.get("metadata").get("prompt_tokens")).isEqualTo(b.get("metadata").get("prompt_tokens"));
    }

    @Test
    void aModelWithoutAChatTemplateSaysToGiveAPlainPrompt() {
        CircuitTracerCommandTest.Run r = attribute(SharedFixtures.resolve("tiny-models/qwen3"), "--chat", "hello");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("has no chat template").contains("plain prompt").doesNotContain("\tat ");
        assertThat(dir.resolve("graphs")).doesNotExist();
    }

    @Test
    void aBadChatFileIsRefusedBeforeTheModelIsLoaded() throws IOException {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, "[{\"role\": \"narrator\", \"content\": \"x\"}]");
        CircuitTracerCommandTest.Run r = attribute(SharedFixtures.resolve("tiny-models/qwen3"), "--chat-file",
                file.toString());
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("narrator").doesNotContain("Loading model").doesNotContain("\tat ");
    }

    private List<String> promptTokens(String slug) throws IOException {
        List<String> tokens = new ArrayList<>();
        new ObjectMapper().readTree(dir.resolve("graphs/" + slug + ".json").toFile()).at("/metadata/prompt_tokens")
                .forEach(t -> tokens.add(t.asText()));
        return tokens;
    }

    @Test
    void chatVarPassesTypedVariablesToTheTemplate() throws IOException {
        Path model = chatModel(dir, THINKING_TEMPLATE);
        String message = "what is the first time for people";
        assertThat(attribute(model, "--chat", message, "--slug", "plain").exit()).isZero();
        CircuitTracerCommandTest.Run off = attribute(model, "--chat", message, "--slug", "off",
                "--chat-var", "enable_thinking=false");
        assertThat(off.exit()).as(off.err()).isZero();
        assertThat(attribute(model, "--chat", message, "--slug", "on", "--chat-var", "enable_thinking=True").exit())
                .isZero();
        // quoted, "false" is text, which is not `false`: no thinking block, as Jinja would have it
        assertThat(attribute(model, "--chat", message, "--slug", "text", "--chat-var", "enable_thinking='false'")
                .exit()).isZero();
        List<String> plain = promptTokens("plain");
        assertThat(plain).hasSize(10);
        List<String> withBlock = new ArrayList<>(plain);
        withBlock.addAll(List.of("think", "think"));
        assertThat(promptTokens("off")).isEqualTo(withBlock);
        assertThat(promptTokens("on")).isEqualTo(plain);
        assertThat(promptTokens("text")).isEqualTo(plain);
        // the block is the template's writing, dimmed like the turn markers
        List<Integer> marked = new ArrayList<>();
        new ObjectMapper().readTree(dir.resolve("graphs/off.json").toFile()).at("/metadata/template_positions")
                .forEach(p -> marked.add(p.asInt()));
        assertThat(marked).containsExactly(0, 8, 9, 10, 11);
    }

    @Test
    void chatVarNeedsAChatAndAVariableName() {
        Path model = SharedFixtures.resolve("tiny-models/qwen3");
        CircuitTracerCommandTest.Run noChat = attribute(model, "--prompt", "the cat", "--chat-var",
                "enable_thinking=false");
        assertThat(noChat.exit()).isEqualTo(2);
        assertThat(noChat.err()).contains("--chat-var").contains("needs --chat MESSAGE or --chat-file FILE")
                .doesNotContain("Loading model");
        CircuitTracerCommandTest.Run badName = attribute(model, "--chat", "x", "--chat-var", "enable-thinking=false");
        assertThat(badName.exit()).isEqualTo(2);
        assertThat(badName.err()).contains("'enable-thinking' is not a template variable name");
        CircuitTracerCommandTest.Run reserved = attribute(model, "--chat", "x", "--chat-var", "messages=1");
        assertThat(reserved.exit()).isEqualTo(2);
        assertThat(reserved.err()).contains("'messages' is set by circuit-tracer");
        CircuitTracerCommandTest.Run noValue = attribute(model, "--chat", "x", "--chat-var", "enable_thinking");
        assertThat(noValue.exit()).isEqualTo(2);
        assertThat(noValue.err()).contains("--chat-var");
    }

    @Test
    void chatVarValuesAreTypedAsPythonWouldPassThem() {
        assertThat(ChatVariables.value("false")).isEqualTo(false);
        assertThat(ChatVariables.value("True")).isEqualTo(true);
        assertThat(ChatVariables.value("3")).isEqualTo(3);
        assertThat(ChatVariables.value("-12345678901")).isEqualTo(-12345678901L);
        assertThat(ChatVariables.value("0.5")).isEqualTo(0.5);
        assertThat(ChatVariables.value("1e-3")).isEqualTo(0.001);
        assertThat(ChatVariables.value("'true'")).isEqualTo("true");
        assertThat(ChatVariables.value("\"42\"")).isEqualTo("42");
        assertThat(ChatVariables.value("26 Jul 2024")).isEqualTo("26 Jul 2024");
        assertThat(ChatVariables.value("")).isEqualTo("");
    }

    @Test
    void chatAndPromptCannotBeGivenTogether() {
        CircuitTracerCommandTest.Run r = attribute(SharedFixtures.resolve("tiny-models/qwen3"), "--chat", "x",
                "--prompt", "y");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("mutually exclusive");
    }
}
