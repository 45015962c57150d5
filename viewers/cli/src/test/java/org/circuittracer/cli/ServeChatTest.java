package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.circuittracer.testkit.SharedFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * New graphs from a chat in {@code serve}: the page learns whether the model has a chat template, a chat job goes
 * through the template and records its positions as {@code attribute --chat} does, and a model without a template
 * refuses a chat with a 400 that says so. On the tiny Qwen-3 fixture (with a template of Qwen's shape, as
 * {@link ChatPromptCommandTest} makes it).
 */
class ServeChatTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private static final String TEMPLATE = "{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>\n"
            + "{% endfor %}{% if add_generation_prompt %}<|im_start|>{% endif %}";
    private static final String MESSAGE = "what is the first time for people";

    @TempDir
    Path dir;

    private static List<String> serve(Path model, Path graphs) {
        return List.of("serve", "--model", model.toString(), "--transcoders",
                SharedFixtures.resolve("tiny-transcoders/qwen3-plt-relu").toString(), "--graph-file-dir",
                graphs.toString(), "--port", "0");
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return HTTP.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String url, Object body) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
    }

    private static JsonNode get(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(url)).GET());
        assertThat(r.statusCode()).as(url + ": " + r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    /** The job's last state once it ends, failing with its message when it did not finish. */
    private static JsonNode awaitJob(String base, JsonNode job) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode now = get(base + "api/jobs/" + job.get("id").asText());
            String state = now.get("state").asText();
            if (state.equals("done")) {
                return now;
            }
            assertThat(state).as(now.toString()).isIn("queued", "running");
            Thread.sleep(50);
        }
        throw new AssertionError("the job did not end in time");
    }

    private static List<Integer> templatePositions(Path graph) throws IOException {
        List<Integer> out = new ArrayList<>();
        JSON.readTree(graph.toFile()).at("/metadata/template_positions").forEach(p -> out.add(p.asInt()));
        return out;
    }

    @Test
    void aChatJobWritesTheGraphAttributeChatWrites() throws Exception {
        Path model = ChatPromptCommandTest.chatModel(dir, TEMPLATE);
        Path graphs = Files.createDirectories(dir.resolve("graphs"));
        try (ServeCommandTest.Background serve = new ServeCommandTest.Background(serve(model, graphs))) {
            String base = serve.awaitAddress("Viewer running at ");
            assertThat(get(base + "api/status").at("/model/chatTemplate").asBoolean()).isTrue();
            HttpResponse<String> created = post(base + "api/graphs", Map.of("chat", List.of(
                    Map.of("role", "user", "content", MESSAGE)), "slug", "from-page", "maxFeatureNodes", 8));
            assertThat(created.statusCode()).as(created.body()).isEqualTo(202);
            awaitJob(base, JSON.readTree(created.body()));
            // the page's chat is the graph's prompt, turn markers recorded for dimming
            assertThat(templatePositions(graphs.resolve("from-page.json"))).containsExactly(0, 8, 9);
            assertThat(get(base + "api/graphs").toString()).contains("from-page");
            // a role no chat template takes is refused before any job, with the message's number and role
            HttpResponse<String> bad = post(base + "api/graphs", Map.of("chat", List.of(
                    Map.of("role", "narrator", "content", MESSAGE)), "slug", "bad"));
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(JSON.readTree(bad.body()).get("message").asText()).contains("'narrator'");
            assertThat(serve.stop()).as(serve.err()).isZero();
        }
        // the same message on the command line: the same prompt, positions and graph
        CircuitTracerCommandTest.Run cli = CircuitTracerCommandTest.run("attribute", "--model", model.toString(),
                "--transcoders", SharedFixtures.resolve("tiny-transcoders/qwen3-plt-relu").toString(),
                "--graph-file-dir", graphs.toString(), "--max-feature-nodes", "8", "--slug", "from-cli", "-q",
                "--chat", MESSAGE);
        assertThat(cli.exit()).as(cli.err()).isZero();
        JsonNode page = JSON.readTree(graphs.resolve("from-page.json").toFile());
        JsonNode line = JSON.readTree(graphs.resolve("from-cli.json").toFile());
        assertThat(page.at("/metadata/prompt_tokens")).isEqualTo(line.at("/metadata/prompt_tokens"));
        assertThat(page.at("/metadata/template_positions")).isEqualTo(line.at("/metadata/template_positions"));
        assertThat(page.get("nodes")).isEqualTo(line.get("nodes"));
    }

    @Test
    void aModelWithoutAChatTemplateRefusesAChatWithA400() throws Exception {
        Path graphs = Files.createDirectories(dir.resolve("graphs"));
        try (ServeCommandTest.Background serve = new ServeCommandTest.Background(serve(
                SharedFixtures.resolve("tiny-models/qwen3"), graphs))) {
            String base = serve.awaitAddress("Viewer running at ");
            assertThat(get(base + "api/status").at("/model/chatTemplate").asBoolean(true)).isFalse();
            HttpResponse<String> r = post(base + "api/graphs", Map.of("chat", List.of(
                    Map.of("role", "user", "content", MESSAGE)), "slug", "chat"));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
            assertThat(JSON.readTree(r.body()).get("message").asText()).contains("has no chat template")
                    .contains("plain prompt");
            assertThat(graphs.resolve("chat.json")).doesNotExist();
            assertThat(serve.stop()).as(serve.err()).isZero();
        }
    }
}
