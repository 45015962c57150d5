package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.circuittracer.attribution.export.FeatureIds;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCategory;
import org.circuittracer.spi.ErrorCode;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.circuittracer.viewer.annotations.AnnotationStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every HTTP route of the viewer, fuzzed with the testkit's harness (docs/develop/fuzzing.md) through a real server
 * on loopback: mutated request targets (paths and query strings of every GET route), {@code Range} headers, JSON
 * bodies of every POST/PUT route, and whole requests (request lines, methods, headers, framing); every route with
 * every method. The contract of each case: a 2xx, or a 4xx whose body is our JSON error
 * ({@code error}, {@code status}, {@code message}); never a 5xx, a hang (the harness's per-case limit), a stack
 * trace in the answer, or a file created or changed outside the graph directory. The server has a stub model, so the
 * model routes parse their bodies for real without attributing anything.
 *
 * <p>{@code -Dfuzz.cases} (default 5,000) is split over the routes by {@code share}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpRouteFuzzTest {

    private static final String SLUG = "small-demo";
    /** A stack frame as {@code Throwable.printStackTrace} writes it. */
    private static final Pattern STACK_FRAME = Pattern.compile("\\bat [\\w$]+(\\.[\\w$]+)+\\([\\w$]*(\\.java)?:?\\d*\\)");

    private Path tmp;
    private Path graphs;
    private byte[] graphBytes;
    private Map<String, String> outsideBefore;
    private ViewerServer server;
    private Client client;
    private String jobId;
    private long featureId;

    @BeforeAll
    void start(@TempDir Path dir) throws IOException {
        tmp = dir;
        graphs = tmp.resolve("graphs");
        Path features = tmp.resolve("features");
        JsonNode graph = TestGraphs.smallGraph(SLUG);
        TestGraphs.write(graphs, (com.fasterxml.jackson.databind.node.ObjectNode) graph);
        TestGraphs.writePackedFeatures(features, graph);
        featureId = FeatureIds.pair(1, 40);
        graphBytes = Files.readAllBytes(graphs.resolve(SLUG + ".json"));
        Files.writeString(graphs.resolve(org.circuittracer.viewer.graph.FeaturesAcrossGraphs.FILE_NAME),
                FeaturesAcrossGraphsApiTest.SAMPLE);
        Files.writeString(tmp.resolve("outside.txt"), "a canary: no request may touch this file\n");
        Files.writeString(tmp.resolve("outside.json"), "{\"canary\": true}\n");
        server = ViewerServer.start(ViewerConfig.of(graphs).withFeaturesDir(features).withPort(0)
                .withWorkbench(new StubWorkbench()));
        client = new Client(server.url());
        JsonNode job = Client.body(client.post("/api/graphs", Map.of("prompt", "the cat", "slug", "job-seed")));
        jobId = job.get("id").asText();
        outsideBefore = outside();
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void everyGetRouteAnswersMutatedTargetsWithJsonOrA4xx() {
        List<String> seeds = List.of(
                "/api/status",
                "/api/graphs",
                "/api/graphs/" + SLUG + "/view?pruningThreshold=0.8&densityThreshold=0.5&maxNodes=100&maxLinks=500"
                        + "&keep=1_40_3,0_12_2",
                "/api/graphs/" + SLUG + "/annotations",
                "/api/graphs/" + SLUG + "/subgraphs",
                "/api/graphs/" + SLUG + "/scores?pinnedIds=1_40_3,0_12_2",
                "/api/features/" + featureId,
                "/api/features-across-graphs",
                "/api/jobs/" + jobId,
                "/api/jobs/" + jobId + "/events",
                "/data/graph-metadata.json",
                "/graph_data/" + SLUG + ".json",
                "/features/index.json.gz",
                "/features/layer_1.bin",
                "/",
                "/index.html",
                "/global.html",
                "/ui/app.css",
                "/favicon.ico");
        Fuzzer.Result r = Fuzzer.named("viewer HTTP GET targets").text().seedTexts(seeds).share(0.3)
                .strings(List.of("..", "%2e%2e", "%2F", "%00", "..%2f", "%", "%zz", "?", "&", "=", "//", SLUG,
                        "graph-metadata.json", "outside.txt", "pruningThreshold", "maxNodes", "keep", "pinnedIds"))
                .run((input, dir) -> check(client.raw("GET", target(input), null, null)));
        r.assertSomeLoaded().assertSomeRejected();
        assertUntouchedOutside();
    }

    @Test
    void deletingAndHeadingMutatedTargetsAnswersJsonOrA4xx() {
        List<String> seeds = List.of("/api/jobs/" + jobId, "/features/layer_0.bin", "/features/index.json.gz");
        Fuzzer.Result r = Fuzzer.named("viewer HTTP DELETE/HEAD targets").text().seedTexts(seeds).share(0.04)
                .run((input, dir) -> {
                    String t = target(input);
                    if (t.startsWith("/features/")) {
                        checkHead(client.raw("HEAD", t, null, null));
                    } else {
                        check(client.raw("DELETE", t, null, null));
                    }
                });
        r.assertSomeLoaded().assertSomeRejected();
        assertUntouchedOutside();
    }

    @Test
    void featureFilesAnswerMutatedRangesWithBytesOrA4xx() {
        List<String> seeds = List.of("bytes=0-99", "bytes=10-", "bytes=-20", "bytes=5-5", "bytes=0-0,4-8");
        Fuzzer.Result r = Fuzzer.named("viewer HTTP Range header").text().seedTexts(seeds).share(0.04)
                .run((input, dir) -> check(client.raw("GET", "/features/layer_0.bin", "Range: " + header(input)
                        + "\r\n", null)));
        r.assertSomeLoaded().assertSomeRejected();
    }

    /**
     * Whole requests mutated as text: request lines (odd, lower-case and unknown methods, other HTTP versions), headers
     * (huge, duplicated, garbled, dropped; Content-Type, Content-Length, Transfer-Encoding, Expect, conditional and
     * Range headers) and bodies together, sent verbatim. A request that announces more than it sends ends there (the
     * client closes its side): the server may then close without answering, never answer with a 5xx or hang.
     */
    @Test
    void mutatedRequestHeadsAndMethodsAnswerJsonOrA4xx() {
        String host = "Host: 127.0.0.1:" + server.url().getPort() + "\r\n";
        String scores = "{\"pinnedIds\": [\"1_40_3\", \"0_12_2\"]}";
        String annotations = "{\"baseVersion\": 0, \"labels\": {\"1_40_3\": \"cat\"}, \"pinnedIds\": [\"1_40_3\"]}";
        String subgraph = "{\"name\": \"cats\", \"pinnedIds\": [\"1_40_3\"]}";
        List<String> seeds = List.of(
                "GET /api/graphs/" + SLUG + "/view?pruningThreshold=0.8&maxNodes=100 HTTP/1.1\r\n" + host
                        + "Accept: application/json\r\nAccept-Encoding: gzip, deflate\r\nConnection: close\r\n\r\n",
                "GET /features/layer_1.bin HTTP/1.1\r\n" + host + "Range: bytes=0-99\r\nIf-Range: \"x\"\r\n"
                        + "Connection: close\r\n\r\n",
                "GET /graph_data/" + SLUG + ".json HTTP/1.1\r\n" + host + "Accept-Encoding: gzip\r\n"
                        + "If-None-Match: \"abc\"\r\nIf-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
                        + "Connection: close\r\n\r\n",
                "GET /graph_data/" + SLUG + ".json HTTP/1.1\r\n" + host + "Range: bytes=100-199, 300-\r\n"
                        + "Accept-Encoding: gzip\r\nConnection: close\r\n\r\n",
                "HEAD /features/index.json.gz HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n",
                "OPTIONS /api/graphs HTTP/1.1\r\n" + host + "Origin: http://example.org\r\n"
                        + "Access-Control-Request-Method: PUT\r\nConnection: close\r\n\r\n",
                "DELETE /api/jobs/" + jobId + " HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n",
                "POST /api/graphs/" + SLUG + "/scores HTTP/1.1\r\n" + host
                        + "Content-Type: application/json; charset=utf-8\r\nContent-Length: " + scores.length()
                        + "\r\nConnection: close\r\n\r\n" + scores,
                "PUT /api/graphs/" + SLUG + "/annotations HTTP/1.1\r\n" + host + "Content-Type: application/json\r\n"
                        + "Expect: 100-continue\r\nContent-Length: " + annotations.length()
                        + "\r\nConnection: close\r\n\r\n" + annotations,
                "POST /api/graphs/" + SLUG + "/subgraphs HTTP/1.1\r\n" + host + "Content-Type: application/json\r\n"
                        + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                        + Integer.toHexString(subgraph.length()) + "\r\n" + subgraph + "\r\n0\r\n\r\n");
        Fuzzer.Result r = Fuzzer.named("viewer HTTP request heads").text().seedTexts(seeds).share(0.06)
                .timeLimit(Duration.ofSeconds(20))
                .strings(List.of("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH",
                        "PROPFIND", "get", "*", "HTTP/1.0", "HTTP/2.0", "HTTP/0.9", "HTTP/1.1", "Content-Length",
                        "Transfer-Encoding", "chunked", "gzip, chunked", "identity", "Content-Type", "text/plain",
                        "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
                        "application/json; charset=utf-16", "Expect", "100-continue", "Range", "bytes=0-0,-1",
                        "Host", "Connection", "keep-alive", "Upgrade: h2c", "X-HTTP-Method-Override: DELETE"))
                .run((input, dir) -> {
                    try {
                        boolean head = new String(input, StandardCharsets.ISO_8859_1).startsWith("HEAD ");
                        Client.RawResponse answer = client.verbatim(input, head).orElse(null);
                        if (answer == null) { // the server closed without answering: only for incomplete requests
                            assertThat(incomplete(input)).as("closed without an answer to a complete request").isTrue();
                            throw new CircuitTracerException(new HttpCode("closed"), "closed without an answer");
                        }
                        if (answer.status() == 505) { // a version other than HTTP/1.x: the client's error too
                            assertThat(answer.whole()).contains("Content-Type: application/json");
                            throw new CircuitTracerException(new HttpCode("505 HTTP_505"), "HTTP version");
                        } else if (head) {
                            checkHead(answer);
                        } else if (answer.status() != 304) { // a conditional GET's own answer
                            check(answer);
                        }
                    } finally {
                        restoreGraphDirectory();
                    }
                });
        r.assertSomeLoaded().assertSomeRejected();
        assertUntouchedOutside();
    }

    /** Every route with every method, odd ones included: the route's answer, or a 4xx (404, 405) in our JSON form. */
    @Test
    void everyRouteAnswersEveryMethodWithJsonOrA4xx() throws IOException {
        List<String> targets = List.of("/api/status", "/api/graphs", "/api/graphs/" + SLUG + "/view",
                "/api/graphs/" + SLUG + "/annotations", "/api/graphs/" + SLUG + "/subgraphs",
                "/api/graphs/" + SLUG + "/subgraphs/sg-1", "/api/graphs/" + SLUG + "/scores",
                "/api/graphs/" + SLUG + "/export", "/api/graphs/" + SLUG + "/steer", "/api/features/" + featureId,
                "/api/features-across-graphs", "/api/jobs/" + jobId, "/api/jobs/" + jobId + "/events",
                "/data/graph-metadata.json",
                "/graph_data/" + SLUG + ".json", "/features/index.json.gz", "/save_graph/" + SLUG, "/",
                "/ui/app.css", "/no/such/route", "*");
        List<String> methods = List.of("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
                "PROPFIND", "FOO", "get", "Post");
        Map<String, Integer> statuses = new TreeMap<>();
        for (String target : targets) {
            for (String method : methods) {
                Client.RawResponse r = client.raw(method, target, "Content-Type: application/json\r\n",
                        "{}".getBytes(StandardCharsets.UTF_8));
                try {
                    check(r);
                } catch (CircuitTracerException refused) {
                    // a clean 4xx in our JSON form
                } catch (AssertionError e) {
                    throw new AssertionError(method + " " + target + ": " + e.getMessage(), e);
                } finally {
                    restoreGraphDirectory();
                }
                statuses.merge(Integer.toString(r.status()), 1, Integer::sum);
            }
        }
        System.out.println("viewer HTTP methods: " + targets.size() * methods.size() + " requests, statuses "
                + statuses);
        assertThat(statuses).containsKeys("200", "404");
        assertUntouchedOutside();
    }

    @Test
    void annotationBodies() {
        fuzzBody("PUT", "/api/graphs/" + SLUG + "/annotations", 0.12, List.of(
                "{\"baseVersion\": 0, \"labels\": {\"1_40_3\": \"says cat\"}, \"pinnedIds\": [\"1_40_3\", \"0_12_2\"], "
                        + "\"supernodes\": [[\"cat group\", \"1_40_3\", \"0_12_2\"]], \"state\": {\"clickedId\": "
                        + "\"1_40_3\", \"pruningThreshold\": 0.6, \"densityThreshold\": null, \"linkType\": \"both\"}, "
                        + "\"subgraphs\": [{\"id\": \"sg-1\", \"name\": \"cat\", \"pinnedIds\": [\"1_40_3\"], "
                        + "\"supernodes\": [], \"labels\": {}}]}"),
                List.of("baseVersion", "labels", "pinnedIds", "supernodes", "state", "subgraphs", "linkType"));
    }

    @Test
    void subgraphBodies() {
        fuzzBody("POST", "/api/graphs/" + SLUG + "/subgraphs", 0.08, List.of(
                "{\"name\": \"cat circuit\", \"pinnedIds\": [\"1_40_3\", \"0_12_2\"], \"supernodes\": [[\"cats\", "
                        + "\"1_40_3\"]], \"labels\": {\"1_40_3\": \"cat\"}}"),
                List.of("name", "pinnedIds", "supernodes", "labels"));
    }

    @Test
    void scoreAndExportBodies() {
        fuzzBody("POST", "/api/graphs/" + SLUG + "/scores", 0.06, List.of(
                "{\"pinnedIds\": [\"1_40_3\", \"0_12_2\", \"E_11_2\"]}"), List.of("pinnedIds", "1_40_3"));
        fuzzBody("POST", "/api/graphs/" + SLUG + "/export", 0.08, List.of(
                "{\"subgraph\": true, \"pinnedIds\": [\"1_40_3\", \"0_12_2\"], \"supernodes\": [[\"cats\", "
                        + "\"1_40_3\", \"0_12_2\"]], \"labels\": {\"1_40_3\": \"cat\"}, \"linkType\": \"both\", "
                        + "\"clickedId\": \"1_40_3\", \"slug\": \"small-demo\"}",
                "{\"subgraph\": false, \"pinnedIds\": [], \"supernodes\": [], \"labels\": {}}"),
                List.of("subgraph", "pinnedIds", "supernodes", "labels", "linkType", "clickedId", "slug"));
    }

    @Test
    void modelRouteBodies() {
        fuzzBody("POST", "/api/graphs/" + SLUG + "/steer", 0.1, List.of(
                "{\"interventions\": [{\"nodeId\": \"1_40_3\", \"mode\": \"scale\", \"value\": -1, \"openEnded\": "
                        + "false}, {\"nodeId\": \"0_12_2\", \"mode\": \"set\", \"value\": 0}], \"maxNewTokens\": 5, "
                        + "\"temperature\": 0, \"seed\": 3, \"topK\": 5, \"freezeAttention\": true}"),
                List.of("interventions", "nodeId", "mode", "scale", "set", "value", "openEnded", "maxNewTokens",
                        "temperature", "topK"));
        fuzzBody("POST", "/api/graphs", 0.1, List.of(
                "{\"prompt\": \"the cat sat\", \"slug\": \"new-cat\", \"targets\": [\"Austin\", \"Austin-Dallas\"], "
                        + "\"maxFeatureNodes\": 100, \"maxNLogits\": 5, \"desiredLogitProb\": 0.9, \"batchSize\": 8, "
                        + "\"nodeThreshold\": 0.8, \"edgeThreshold\": 0.98, \"overwrite\": false}",
                "{\"promptIds\": [1, 10, 11], \"slug\": \"ids\", \"targets\": \"#12\"}",
                "{\"chat\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": "
                        + "\"the cat sat\"}], \"slug\": \"chat\"}"),
                List.of("prompt", "promptIds", "slug", "targets", "overwrite", "batchSize", "chat", "role", "content",
                        "system", "user", "assistant", SLUG));
    }

    @Test
    void saveGraphBodies() {
        fuzzBody("POST", "/save_graph/" + SLUG, 0.08, List.of(
                "{\"qParams\": {\"pinnedIds\": [\"1_40_3\"], \"supernodes\": [[\"cats\", \"1_40_3\"]], \"linkType\": "
                        + "\"both\", \"clickedId\": \"1_40_3\", \"sg_pos\": \"\"}}"),
                List.of("qParams", "pinnedIds", "supernodes"));
    }

    /** Found by the fuzzer: a feature id past the pairing's range made the decoding loop for ever. */
    @Test
    void aHugeFeatureIdIsRefusedNotDecodedForEver() {
        Client.RawResponse r = client.raw("GET", "/api/features/9223372036854775807", null, null);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).contains("larger than any paired feature id");
    }

    /** Found by the fuzzer: JSON nested past Jackson's limit has no location, and the message's NPE gave a 500. */
    @Test
    void aBodyNestedTooDeeplyIsA400() {
        byte[] deep = ("{\"pinnedIds\": " + "[".repeat(5000) + "]".repeat(5000) + "}").getBytes(StandardCharsets.UTF_8);
        Client.RawResponse r = client.raw("POST", "/api/graphs/" + SLUG + "/scores",
                "Content-Type: application/json\r\n", deep);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).contains("not valid JSON");
    }

    /** Found by the fuzzer: requests Jetty refuses before routing answered with its HTML page (or nothing). */
    @Test
    void requestsRefusedBeforeRoutingAnswerInOurJsonForm() throws IOException {
        for (String target : List.of("/api/graph%97s/small-demo/view", "/../../escape", "/data/%2e%2e%2Foutside.txt")) {
            Client.RawResponse r = client.raw("GET", target, null, null);
            assertThat(r.status()).as(target).isBetween(400, 499);
            JsonNode body = Client.JSON.readTree(r.body());
            assertThat(body.path("status").asInt()).as(target).isEqualTo(r.status());
            assertThat(body.path("message").asText()).as(target).isNotBlank();
        }
    }

    /**
     * Found by a -Pfuzz run (DELETE/HEAD targets, case 79952): a path parameter with a malformed %-escape made
     * Javalin's URLDecoder throw before any route ran, a 500.
     */
    @Test
    void aMalformedEscapeInAPathParameterIsA400() throws IOException {
        String found = "/features/layer_0.bin$%208;%81%10%F7%91wg%83%FBd2%F9%CD%AAN%00n%%01U%F6D%DAP%89%A0%17%04";
        for (String method : List.of("HEAD", "GET")) {
            // Jetty refuses some malformed escapes itself; the rest reach Javalin's decoding: 400 either way
            for (String target : List.of(found, "/features/layer_0.bin%%01", "/api/graphs/x%zz/annotations")) {
                Client.RawResponse r = client.raw(method, target, null, null);
                assertThat(r.status()).as(method + " " + target).isEqualTo(400);
                if (method.equals("GET")) {
                    assertThat(Client.JSON.readTree(r.body()).path("message").asText()).as(target).isNotBlank();
                }
            }
        }
        assertThat(Client.JSON.readTree(client.raw("GET", found, null, null).body()).path("message").asText())
                .contains("invalid %-escape").contains("%25");
    }

    /** Found by a -Pfuzz run: a slug with a lone surrogate reached the file system and gave a 500. */
    @Test
    void aSlugThatNoFileCanBeNamedIsA400() {
        Client.RawResponse lone = client.raw("POST", "/api/graphs", "Content-Type: application/json\r\n",
                "{\"promptIds\": [1, 10], \"slug\": \"\\ud800\"}".getBytes(StandardCharsets.UTF_8));
        assertThat(lone.status()).isEqualTo(400);
        Client.RawResponse r = client.raw("POST", "/api/graphs", "Content-Type: application/json\r\n",
                "{\"promptIds\": [1, 10], \"slug\": \"a\\ud800b\"}".getBytes(StandardCharsets.UTF_8));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).contains("is not a graph slug");
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private void fuzzBody(String method, String path, double share, List<String> seeds, List<String> words) {
        Fuzzer.Result r = Fuzzer.named("viewer HTTP " + method + " " + path.replace(SLUG, "<slug>")).text()
                .seedTexts(seeds).strings(words).share(share).timeLimit(Duration.ofSeconds(20))
                .run((input, dir) -> {
                    try {
                        check(client.raw(method, path, "Content-Type: application/json\r\n", input));
                    } finally {
                        restoreGraphDirectory();
                    }
                });
        r.assertSomeLoaded().assertSomeRejected();
        assertUntouchedOutside();
    }

    /** The contract of one answer; a 4xx becomes a CircuitTracerException so the harness counts its code. */
    private static void check(Client.RawResponse r) {
        String context = " (answer: " + shorten(r.whole()) + ")";
        assertThat(STACK_FRAME.matcher(r.body()).find()).as("a stack trace in the answer" + context).isFalse();
        if (r.status() >= 200 && r.status() < 300) {
            return;
        }
        assertThat(r.status()).as("status" + context).isBetween(400, 499);
        refuse(r, context);
    }

    /** A refusal in our JSON form, thrown as a CircuitTracerException so the harness counts its code. */
    private static void refuse(Client.RawResponse r, String context) {
        JsonNode body;
        try {
            body = Client.JSON.readTree(r.body().getBytes(StandardCharsets.ISO_8859_1));
        } catch (IOException e) {
            throw new AssertionError("a " + r.status() + " answer that is not our JSON error" + context, e);
        }
        assertThat(body.path("error").asText()).as("error code" + context).isNotBlank();
        assertThat(body.path("status").asInt()).as("status field" + context).isEqualTo(r.status());
        assertThat(body.path("message").asText()).as("message" + context).isNotBlank();
        throw new CircuitTracerException(new HttpCode(r.status() + " " + body.get("error").asText()),
                body.get("message").asText());
    }

    /**
     * Whether a request as sent ends before its end, or cannot tell where it ends: no blank line after the head, a
     * {@code Content-Length} that is not a number or more than the body bytes sent, or a chunked body without its
     * last chunk.
     */
    static boolean incomplete(byte[] request) {
        String text = new String(request, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        if (end < 0) {
            return true;
        }
        String body = text.substring(end + 4);
        for (String line : text.substring(0, end).split("\r\n")) {
            String lower = line.toLowerCase(java.util.Locale.ROOT);
            if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                return !body.contains("0\r\n\r\n");
            }
            if (lower.startsWith("content-length:")) {
                String n = line.substring(15).trim();
                if (!n.matches("\\d{1,18}") || Long.parseLong(n) > body.length()) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A HEAD answer has no body: only its status can be checked. */
    private static void checkHead(Client.RawResponse r) {
        assertThat(r.status()).as("status (answer: " + shorten(r.whole()) + ")").isBetween(200, 499);
        if (r.status() >= 400) {
            throw new CircuitTracerException(new HttpCode(r.status() + " HEAD"), "HEAD answered " + r.status());
        }
    }

    /** A request target from mutated bytes: what a client can send (visible ASCII, the rest %-encoded; '%' raw). */
    static String target(byte[] input) {
        StringBuilder s = new StringBuilder(input.length + 16);
        for (byte b : input) {
            int c = b & 0xff;
            if (c > 0x20 && c < 0x7f && c != '#') {
                s.append((char) c);
            } else {
                s.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return s.isEmpty() || s.charAt(0) != '/' ? "/" + s : s.toString();
    }

    /** A header value from mutated bytes: line breaks and other controls become spaces (they would end it). */
    private static String header(byte[] input) {
        StringBuilder s = new StringBuilder(input.length);
        for (byte b : input) {
            int c = b & 0xff;
            s.append(c < 0x20 && c != '\t' || c == 0x7f ? ' ' : (char) c);
        }
        return s.toString();
    }

    /** Puts the graph directory back as it was (writes of one case must not change the next case's answers). */
    private void restoreGraphDirectory() throws IOException {
        Files.deleteIfExists(graphs.resolve(SLUG + AnnotationStore.SUFFIX));
        Files.deleteIfExists(graphs.resolve(SLUG + ".json.bak"));
        Path graph = graphs.resolve(SLUG + ".json");
        if (Files.size(graph) != graphBytes.length || !java.util.Arrays.equals(Files.readAllBytes(graph), graphBytes)) {
            Files.write(graph, graphBytes);
        }
        Set<String> expected = Set.of(SLUG + ".json", "graph-metadata.json",
                org.circuittracer.viewer.graph.FeaturesAcrossGraphs.FILE_NAME);
        try (Stream<Path> list = Files.list(graphs)) {
            List<String> extra = list.map(p -> p.getFileName().toString()).filter(n -> !expected.contains(n)).toList();
            assertThat(extra).as("files a request left in the graph directory").isEmpty();
        }
        assertUntouchedOutside();
    }

    private void assertUntouchedOutside() {
        assertThat(outside()).as("files outside the graph directory").isEqualTo(outsideBefore);
    }

    /** Every file of the test's directory outside the graph directory: path to size and modification time. */
    private Map<String, String> outside() {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(tmp)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (!p.startsWith(graphs)) {
                    files.put(tmp.relativize(p).toString(), Files.isDirectory(p) ? "dir"
                            : Files.size(p) + "@" + Files.getLastModifiedTime(p).toMillis());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    private static String shorten(String s) {
        return s.length() <= 600 ? s : s.substring(0, 600) + "…";
    }

    /** The error code of an answer, for the harness's counts. */
    private record HttpCode(String code) implements ErrorCode {
        @Override
        public ErrorCategory category() {
            return ErrorCategory.USER_ERROR;
        }
    }

    /** Parses like a model would be asked to, never attributes: new graphs finish at once without writing. */
    private static final class StubWorkbench implements org.circuittracer.viewer.work.ModelWorkbench {
        @Override
        public org.circuittracer.viewer.work.WorkbenchInfo info() {
            return new org.circuittracer.viewer.work.WorkbenchInfo("stub", "stub", 2);
        }

        @Override
        public org.circuittracer.attribution.export.GraphJsonExporter.Result createGraph(
                org.circuittracer.viewer.work.NewGraphRequest request, Path directory,
                org.circuittracer.spi.attribution.AttributionListener listener) {
            return new org.circuittracer.attribution.export.GraphJsonExporter.Result(
                    directory.resolve(request.slug() + ".json"), directory.resolve("graph-metadata.json"), 0, 0,
                    List.of(), List.of(), new org.circuittracer.attribution.prune.GraphScores.Scores(Double.NaN,
                    Double.NaN));
        }

        @Override
        public org.circuittracer.viewer.work.SteerResult steer(org.circuittracer.viewer.work.SteerRequest request) {
            org.circuittracer.viewer.work.SteerResult.Run run = new org.circuittracer.viewer.work.SteerResult.Run(
                    "the cat sat", " on", new ArrayList<>());
            return new org.circuittracer.viewer.work.SteerResult(run, run);
        }
    }
}
