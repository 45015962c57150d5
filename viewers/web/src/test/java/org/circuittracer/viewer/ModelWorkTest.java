package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.circuittracer.viewer.work.Job;
import org.circuittracer.viewer.work.JobRunner;
import org.circuittracer.viewer.work.NewGraphRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** New graphs and steering with a real model (the tiny llama), through the API and the job runner. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ModelWorkTest {

    @TempDir
    static Path graphs;

    private ViewerServer server;
    private Client client;

    @BeforeAll
    void start() {
        server = ViewerServer.start(ViewerConfig.of(graphs).withPort(0).withWorkbench(TinyModel.workbench()));
        client = new Client(server.url());
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** The events of a job's stream, until it closes. */
    private List<String[]> events(String path) throws Exception {
        HttpResponse<java.io.InputStream> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                server.url().resolve(path)).header("Accept", "text/event-stream").build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        List<String[]> out = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String event = null;
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith("event:")) {
                    event = line.substring(6).trim();
                } else if (line.startsWith("data:")) {
                    out.add(new String[] {event, line.substring(5).trim()});
                }
            }
        }
        return out;
    }

    @Test
    void createsAGraphAndStreamsItsProgress() throws Exception {
        List<Integer> ids = new ArrayList<>();
        for (int id : TinyModel.promptIds()) {
            ids.add(id);
        }
        var created = client.post("/api/graphs", Map.of("promptIds", ids, "slug", "made", "maxFeatureNodes", 0));
        assertThat(created.statusCode()).isEqualTo(202);
        String stream = Client.body(created).get("events").asText();
        List<String[]> events = events(stream);
        List<String> types = events.stream().map(e -> e[0]).toList();
        assertThat(types).startsWith("queued").contains("started", "phase", "progress").endsWith("done");
        JsonNode done = Client.JSON.readTree(events.get(events.size() - 1)[1]);
        assertThat(done.get("slug").asText()).isEqualTo("made");
        assertThat(done.get("nodes").asInt()).isPositive();
        assertThat(Files.exists(graphs.resolve("made.json"))).isTrue();
        assertThat(Client.body(client.get("/api/graphs")).get("graphs").findValuesAsText("slug")).contains("made");
        assertThat(Client.body(client.get("/api/graphs/made/view")).get("links").size()).isPositive();
        // a finished job replays its events to a late subscriber
        assertThat(events(stream).stream().map(e -> e[0]).toList()).endsWith("done");

        var again = client.post("/api/graphs", Map.of("promptIds", ids, "slug", "made"));
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(Client.body(again).get("message").asText()).contains("already exists");
        var text = client.post("/api/graphs", Map.of("prompt", "the cat sat on the mat", "slug", "from-text"));
        assertThat(text.statusCode()).isEqualTo(202);
        assertThat(events(Client.body(text).get("events").asText()).stream().map(e -> e[0]).toList()).endsWith("done");
    }

    /** The form's target field: a token id ({@code #5}) explains that logit alone; a non-token is a 400. */
    @Test
    void aNewGraphExplainsTheGivenTarget() throws Exception {
        List<Integer> ids = new ArrayList<>();
        for (int id : TinyModel.promptIds()) {
            ids.add(id);
        }
        var created = client.post("/api/graphs", Map.of("promptIds", ids, "slug", "target-5", "targets", List.of("#5"),
                "maxFeatureNodes", 50));
        assertThat(created.statusCode()).isEqualTo(202);
        List<String[]> events = events(Client.body(created).get("events").asText());
        assertThat(events.get(events.size() - 1)[0]).as(events.get(events.size() - 1)[1]).isEqualTo("done");
        JsonNode json = Client.JSON.readTree(graphs.resolve("target-5.json").toFile());
        List<JsonNode> logits = new ArrayList<>();
        int features = 0;
        for (JsonNode n : json.get("nodes")) {
            if (n.get("feature_type").asText().equals("logit")) {
                logits.add(n);
            }
            features += n.get("feature_type").asText().contains("transcoder") ? 1 : 0;
        }
        assertThat(logits).singleElement().satisfies(n -> assertThat(n.get("feature").asInt()).isEqualTo(5));
        assertThat(features).isLessThanOrEqualTo(50);

        // refused at submission with the reason, before any job is queued (no job fails later)
        var bad = client.post("/api/graphs", Map.of("promptIds", ids, "slug", "target-bad", "targets",
                List.of("#99999999")));
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(Client.body(bad).get("message").asText()).contains("Target #99999999 is outside the model's vocabulary");
        var notToken = client.post("/api/graphs", Map.of("promptIds", ids, "slug", "target-bad", "targets",
                "Austin, not one token"));
        assertThat(notToken.statusCode()).isEqualTo(400);
        assertThat(Client.body(notToken).get("message").asText()).contains("Target '", "neither one token");
        assertThat(graphs.resolve("target-bad.json")).doesNotExist();
        assertThat(client.post("/api/graphs", Map.of("promptIds", ids, "slug", "target-num", "targets", 5))
                .statusCode()).isEqualTo(400);
    }

    /** Nothing pruned on golden prompt 0: error and feature share the reference id 0_0_1; both are kept. */
    @Test
    void aNewGraphWithAnIdCollisionIsWrittenWithTheErrorRenamedAndAWarning() throws Exception {
        List<Integer> ids = new ArrayList<>();
        for (int id : TinyModel.promptIds()) {
            ids.add(id);
        }
        var created = client.post("/api/graphs", Map.of("promptIds", ids, "slug", "collide", "nodeThreshold", 1,
                "edgeThreshold", 1));
        assertThat(created.statusCode()).isEqualTo(202);
        List<String[]> events = events(Client.body(created).get("events").asText());
        assertThat(events.get(events.size() - 1)[0]).as(events.get(events.size() - 1)[1]).isEqualTo("done");
        JsonNode done = Client.JSON.readTree(events.get(events.size() - 1)[1]);
        assertThat(done.get("warnings")).singleElement().asString().contains("0_0_1 -> 0_0_1_error");
        JsonNode json = Client.JSON.readTree(graphs.resolve("collide.json").toFile());
        List<String> nodeIds = json.get("nodes").findValuesAsText("node_id");
        assertThat(nodeIds).contains("0_0_1", "0_0_1_error").doesNotHaveDuplicates();
        JsonNode view = Client.body(client.get("/api/graphs/collide/view?pruningThreshold=1&densityThreshold=1"));
        assertThat(view.toString()).contains("\"0_0_1\"").contains("\"0_0_1_error\"");
    }

    @Test
    void explainsBadGraphRequests() {
        assertThat(Client.body(client.post("/api/graphs", Map.of("slug", "x"))).get("message").asText())
                .contains("prompt");
        assertThat(Client.body(client.post("/api/graphs", Map.of("prompt", "a", "slug", "../x"))).get("message").asText())
                .contains("not a graph slug");
        assertThat(client.post("/api/graphs", Map.of("prompt", "a", "slug", "y", "nodeThreshold", 3)).statusCode())
                .isEqualTo(400);
        // refused before a job is queued: nothing to attribute after the special token
        HttpResponse<byte[]> onlyBos = client.post("/api/graphs", Map.of("promptIds", List.of(0), "slug", "z"));
        assertThat(onlyBos.statusCode()).isEqualTo(400);
        assertThat(Client.body(onlyBos).get("message").asText()).contains("no token besides special ones");
        assertThat(client.get("/api/jobs/nope").statusCode()).isEqualTo(404);
        assertThat(client.send("DELETE", "/api/jobs/nope", null).statusCode()).isEqualTo(404);
    }

    @Test
    void explainsBadChatRequests() throws Exception {
        // the tiny llama here has no chat template: the page is told, and a chat is refused before any job
        assertThat(Client.body(client.get("/api/status")).at("/model/chatTemplate").asBoolean(true)).isFalse();
        HttpResponse<byte[]> noTemplate = client.post("/api/graphs", Map.of("chat", List.of(Map.of("role", "user",
                "content", "the cat sat")), "slug", "chat"));
        assertThat(noTemplate.statusCode()).isEqualTo(400);
        assertThat(Client.body(noTemplate).get("message").asText()).contains("from a chat").contains("plain prompt");
        // the request's own faults, each with its reason
        Map<String, String> bad = new java.util.LinkedHashMap<>();
        bad.put("{\"chat\": [{\"role\": \"narrator\", \"content\": \"x\"}], \"slug\": \"c\"}", "role 'narrator'");
        bad.put("{\"chat\": [{\"role\": \"user\", \"content\": \"\"}], \"slug\": \"c\"}", "(user) is empty");
        bad.put("{\"chat\": [], \"slug\": \"c\"}", "no message");
        bad.put("{\"chat\": [{\"role\": \"user\", \"content\": \"x\"}], \"prompt\": \"y\", \"slug\": \"c\"}",
                "not both");
        bad.put("{\"chat\": \"hello\", \"slug\": \"c\"}", "\"chat\" must be an array");
        bad.put("{\"chat\": [\"hello\"], \"slug\": \"c\"}", "must be an object");
        bad.put("{\"chat\": [{\"role\": 1, \"content\": \"x\"}], \"slug\": \"c\"}", "\"role\" must be a string");
        bad.put("{\"chat\": [" + String.join(",", java.util.Collections.nCopies(101,
                "{\"role\": \"user\", \"content\": \"x\"}")) + "], \"slug\": \"c\"}", "at most 100");
        for (Map.Entry<String, String> b : bad.entrySet()) {
            Client.RawResponse r = client.raw("POST", "/api/graphs", "Content-Type: application/json\r\n",
                    b.getKey().getBytes(StandardCharsets.UTF_8));
            assertThat(r.status()).as(b.getKey()).isEqualTo(400);
            assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).get("message").asText())
                    .as(b.getKey()).contains(b.getValue());
        }
    }

    @Test
    void cancelsQueuedAndRunningJobs() throws Exception {
        try (JobRunner runner = new JobRunner(TinyModel.workbench())) {
            // hold the model thread so both jobs wait in the queue (and wait until it is held: supplyAsync only
            // submits the blocker later, on another thread, and a job queued before it would start at once)
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Object> blocker = CompletableFuture.supplyAsync(() -> runner.runExclusive(() -> {
                held.countDown();
                release.await();
                return null;
            }));
            assertThat(held.await(60, TimeUnit.SECONDS)).as("the model thread is held").isTrue();
            Job queued = runner.createGraph(request("never"), graphs, () -> { });
            Job running = runner.createGraph(request("stopped"), graphs, () -> { });
            queued.cancel();
            // cancel the second job as soon as attribution reports its first phase
            running.subscribe(e -> {
                if (e.type().equals("phase")) {
                    running.cancel();
                }
            });
            release.countDown();
            blocker.get(60, TimeUnit.SECONDS);
            CountDownLatch finished = new CountDownLatch(1);
            running.subscribe(e -> {
                if (running.state().finished()) {
                    finished.countDown();
                }
            });
            assertThat(finished.await(60, TimeUnit.SECONDS)).isTrue();
            assertThat(queued.state()).isEqualTo(Job.State.CANCELLED);
            assertThat(running.state()).isEqualTo(Job.State.CANCELLED);
            assertThat(running.events().get(running.events().size() - 1).type()).isEqualTo("cancelled");
            assertThat(graphs.resolve("never.json")).doesNotExist();
            assertThat(graphs.resolve("stopped.json")).doesNotExist();
        }
    }

    private static NewGraphRequest request(String slug) {
        return new NewGraphRequest(null, TinyModel.promptIds(), slug, 10, 0.95, 0, 1, 0.8, 0.98);
    }

    @Test
    void steersFromPinnedFeaturesSideBySide() throws Exception {
        TinyModel.graph(graphs, "steer-me");
        JsonNode view = Client.body(client.get("/api/graphs/steer-me/view"));
        int last = view.at("/metadata/prompt_tokens").size() - 1;
        JsonNode target = null;
        for (JsonNode n : view.get("nodes")) {
            if (n.get("feature_type").asText().equals("cross layer transcoder")
                    && (target == null || n.get("ctx_idx").asInt() == last)) {
                target = n;
            }
        }
        assertThat(target).isNotNull();
        var r = client.post("/api/graphs/steer-me/steer", Map.of("interventions", List.of(Map.of("nodeId",
                target.get("node_id").asText(), "mode", "set", "value", 40)), "maxNewTokens", 4, "topK", 3));
        assertThat(r.statusCode()).as(Client.text(r)).isEqualTo(200);
        JsonNode out = Client.body(r);
        JsonNode steered = out.get("steered");
        JsonNode unsteered = out.get("unsteered");
        assertThat(steered.get("steps").size()).isBetween(1, 4);
        assertThat(unsteered.get("steps").size()).isBetween(1, 4);
        assertThat(steered.at("/steps/0/candidates")).hasSize(3);
        // probabilities over the whole vocabulary: descending with the logits, in (0, 1], summing to at most 1
        double previous = 1;
        double sum = 0;
        for (JsonNode c : steered.at("/steps/0/candidates")) {
            double p = c.get("probability").asDouble();
            assertThat(p).isGreaterThan(0).isLessThanOrEqualTo(previous);
            previous = p;
            sum += p;
        }
        assertThat(sum).isLessThanOrEqualTo(1 + 1e-9);
        JsonNode first = steered.at("/steps/0/candidates/0");
        JsonNode second = steered.at("/steps/0/candidates/1");
        assertThat(Math.log(first.get("probability").asDouble() / second.get("probability").asDouble()))
                .isCloseTo(first.get("logit").asDouble() - second.get("logit").asDouble(), org.assertj.core.api.Assertions.within(1e-4));
        assertThat(steered.get("text").asText()).endsWith(steered.get("continuation").asText());
        // the graph's target logit, from the whole vocabulary: where it is a candidate, the same numbers
        JsonNode t = out.get("target");
        assertThat(t.get("kind").asText()).isEqualTo("token");
        int targetId = t.get("tokenIds").get(0).asInt();
        for (JsonNode n : view.get("nodes")) {
            if (n.get("is_target_logit").asBoolean()) {
                assertThat(n.get("feature").asInt()).isEqualTo(targetId);
            }
        }
        for (JsonNode c : unsteered.at("/steps/0/candidates")) {
            if (c.get("tokenId").asInt() == targetId) {
                assertThat(t.at("/unsteered/probability").asDouble()).isCloseTo(c.get("probability").asDouble(),
                        org.assertj.core.api.Assertions.within(1e-9));
                assertThat(t.at("/unsteered/logit").asDouble()).isCloseTo(c.get("logit").asDouble(),
                        org.assertj.core.api.Assertions.within(1e-6));
            }
        }
        assertThat(t.at("/steered/probability").asDouble()).isBetween(0.0, 1.0);
        // setting a feature far above its activation moves the next-token logits
        assertThat(steered.at("/steps/0/candidates/0/logit").asDouble())
                .isNotEqualTo(unsteered.at("/steps/0/candidates/0/logit").asDouble());

        JsonNode embedding = null;
        for (JsonNode n : view.get("nodes")) {
            if (n.get("feature_type").asText().equals("embedding")) {
                embedding = n;
            }
        }
        var notFeature = client.post("/api/graphs/steer-me/steer", Map.of("interventions", List.of(Map.of("nodeId",
                embedding.get("node_id").asText(), "value", 2))));
        assertThat(notFeature.statusCode()).isEqualTo(400);
        assertThat(Client.body(notFeature).get("message").asText()).contains("only transcoder features");
        assertThat(Client.body(client.post("/api/graphs/steer-me/steer", Map.of("interventions", List.of())))
                .get("message").asText()).contains("at least one intervention");
        assertThat(client.post("/api/graphs/steer-me/steer", Map.of("interventions", List.of(Map.of("nodeId", "9_9_9",
                "value", 1)))).statusCode()).isEqualTo(400);
        assertThat(URI.create(server.url().toString()).getHost()).isEqualTo("127.0.0.1");
    }
}
