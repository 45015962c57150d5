package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.circuittracer.viewer.annotations.AnnotationStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server under load on loopback: {@value #CLIENTS} clients (own harness, java.net.http) for
 * {@code -Dload.seconds} (default 10; 60 for the figure) over the graph, feature and annotation routes of a
 * 10,000-node graph, {@value #TABS} of them "tabs" that edit the same graph's annotations. It reports requests/s,
 * p50/p99 per route and the heap, and asserts correctness only (never a time): no 5xx, no I/O error, no unexpected
 * 4xx; every annotation write either lands (a new version) or gets a 409; the landed versions are exactly 1..N with
 * no gap or repeat; no read ever sees a torn or mixed document; the final file holds the last landed write and every
 * added subgraph; the heap after the run is bounded.
 */
class ServerLoadTest {

    static final int CLIENTS = 32;
    static final int TABS = 6;
    /** Safety bound on requests per client, whatever the duration. */
    static final int MAX_REQUESTS_PER_CLIENT = 200_000;
    private static final String SLUG = "huge";

    @TempDir
    Path tmp;

    private record Landed(long version, String tag, boolean subgraph) {
    }

    /** Per route: latencies in microseconds, and counts. */
    private static final class Route {
        final List<long[]> samples = Collections.synchronizedList(new ArrayList<>());
        final AtomicLong requests = new AtomicLong();
    }

    private final Map<String, Route> routes = new ConcurrentHashMap<>();
    private final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    private final List<Landed> landed = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong conflicts = new AtomicLong();
    private final AtomicLong reads = new AtomicLong();

    @Test
    void manyClientsAndTabsLoseNothingAndGetNoErrors() throws Exception {
        int seconds = Integer.getInteger("load.seconds", 10);
        Path graphs = tmp.resolve("graphs");
        Path features = tmp.resolve("features");
        ObjectNode graph = TestGraphs.largeGraph(SLUG, 10_000, 40, 16, 12, 7);
        TestGraphs.write(graphs, graph);
        TestGraphs.writePackedFeatures(features, graph);
        List<String> featureNodes = new ArrayList<>();
        List<Long> featureIds = new ArrayList<>();
        for (JsonNode n : graph.get("nodes")) {
            if (n.path("feature_type").asText().equals("cross layer transcoder")) {
                featureNodes.add(n.get("node_id").asText());
                featureIds.add(n.get("feature").asLong());
            }
        }
        graph = null; // only the server keeps a parsed copy
        try (ViewerServer server = ViewerServer.start(ViewerConfig.of(graphs).withFeaturesDir(features).withPort(0))) {
            URI base = server.url();
            // warm up: parse the graph once, as the first page load does
            assertThat(HttpClient.newHttpClient().send(HttpRequest.newBuilder(base.resolve("/api/graphs/" + SLUG
                    + "/view")).build(), HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
            long deadline = System.nanoTime() + seconds * 1_000_000_000L;
            AtomicLong maxHeap = new AtomicLong();
            Thread sampler = new Thread(() -> {
                Runtime rt = Runtime.getRuntime();
                while (!Thread.currentThread().isInterrupted()) {
                    maxHeap.accumulateAndGet(rt.totalMemory() - rt.freeMemory(), Math::max);
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "heap-sampler");
            sampler.setDaemon(true);
            sampler.start();
            CountDownLatch done = new CountDownLatch(CLIENTS);
            long started = System.nanoTime();
            for (int c = 0; c < CLIENTS; c++) {
                int id = c;
                Thread t = new Thread(() -> {
                    try {
                        if (id < TABS) {
                            tab(base, id, deadline, featureNodes);
                        } else {
                            reader(base, id, deadline, featureIds);
                        }
                    } catch (RuntimeException | Error e) {
                        errors.add("client " + id + ": " + e);
                    } finally {
                        done.countDown();
                    }
                }, "load-client-" + c);
                t.setDaemon(true);
                t.start();
            }
            // bounded: the clients stop at the deadline; a request may still take its own timeout
            assertThat(done.await(seconds + 120L, java.util.concurrent.TimeUnit.SECONDS)).as("clients finished")
                    .isTrue();
            double elapsed = (System.nanoTime() - started) / 1e9;
            sampler.interrupt();
            System.gc();
            Runtime rt = Runtime.getRuntime();
            long afterGc = rt.totalMemory() - rt.freeMemory();
            report(seconds, elapsed, maxHeap.get(), afterGc, rt.maxMemory());

            assertThat(errors).as("5xx answers, I/O errors and unexpected statuses").isEmpty();
            checkAnnotations(graphs, new Client(base));
            // bounded memory: what stays after the run is the parsed graph and caches, far below the heap limit
            assertThat(afterGc).as("heap in use after the run and a GC").isLessThan(Math.min(rt.maxMemory() / 2,
                    768L << 20));
        }
    }

    /** A tab: reads the annotations, edits them from the version it read, saves; sometimes adds a subgraph. */
    private void tab(URI base, int id, long deadline, List<String> nodes) {
        HttpClient http = client();
        Random rnd = new Random(1000 + id);
        for (int i = 0; i < MAX_REQUESTS_PER_CLIENT && System.nanoTime() < deadline; i++) {
            JsonNode doc = readAnnotations(http, base);
            if (doc == null) {
                continue;
            }
            long version = doc.path("version").asLong();
            String tag = "tab " + id + " write " + i;
            if (rnd.nextInt(8) == 0) {
                ObjectNode sub = Client.JSON.createObjectNode();
                sub.put("name", tag);
                sub.putArray("pinnedIds").add(nodes.get(rnd.nextInt(nodes.size())));
                HttpResponse<byte[]> r = send(http, "POST subgraphs", HttpRequest.newBuilder(base.resolve(
                        "/api/graphs/" + SLUG + "/subgraphs")).POST(body(sub)));
                if (r != null && expect(r, "POST subgraphs", 201)) {
                    landed.add(new Landed(Client.body(r).get("version").asLong(), tag, true));
                }
                continue;
            }
            ObjectNode edit = Client.JSON.createObjectNode();
            edit.put("baseVersion", version);
            ObjectNode labels = edit.putObject("labels");
            ArrayNode pins = edit.putArray("pinnedIds");
            for (int k = 0; k < 1 + rnd.nextInt(20); k++) {
                String node = nodes.get(rnd.nextInt(nodes.size()));
                labels.put(node, tag); // every label of one write says which write: a mixed document shows
                pins.add(node);
            }
            edit.set("subgraphs", doc.get("subgraphs")); // keep what was read, as the page does
            edit.putObject("state").put("clickedId", tag);
            HttpResponse<byte[]> r = send(http, "PUT annotations", HttpRequest.newBuilder(base.resolve("/api/graphs/"
                    + SLUG + "/annotations")).PUT(body(edit)));
            if (r == null) {
                continue;
            }
            if (r.statusCode() == 409) {
                conflicts.incrementAndGet(); // the page reloads and redoes the edit: so does the next iteration
            } else if (expect(r, "PUT annotations", 200)) {
                long saved = Client.body(r).get("version").asLong();
                if (saved != version + 1) {
                    errors.add("a save based on version " + version + " stored version " + saved);
                }
                landed.add(new Landed(saved, tag, false));
            }
        }
    }

    /** A reader: views at random thresholds, feature details, byte ranges of feature files, the lists. */
    private void reader(URI base, int id, long deadline, List<Long> featureIds) {
        HttpClient http = client();
        Random rnd = new Random(id);
        for (int i = 0; i < MAX_REQUESTS_PER_CLIENT && System.nanoTime() < deadline; i++) {
            int pick = rnd.nextInt(100);
            String name;
            String path;
            HttpRequest.Builder b;
            if (pick < 25) {
                name = "GET view";
                path = "/api/graphs/" + SLUG + "/view?pruningThreshold=" + (0.3 + rnd.nextInt(7) / 10.0)
                        + "&maxNodes=" + (200 + rnd.nextInt(1300));
            } else if (pick < 55) {
                name = "GET feature";
                path = "/api/features/" + featureIds.get(rnd.nextInt(featureIds.size()));
            } else if (pick < 70) {
                name = "GET feature range";
                int layer = rnd.nextInt(16);
                int from = rnd.nextInt(2000);
                b = HttpRequest.newBuilder(base.resolve("/features/layer_" + layer + ".bin"))
                        .header("Range", "bytes=" + from + "-" + (from + rnd.nextInt(4000)));
                HttpResponse<byte[]> r = send(http, name, b.GET());
                if (r != null && r.statusCode() != 416) {
                    expect(r, name, 206);
                }
                continue;
            } else if (pick < 80) {
                name = "GET graphs";
                path = rnd.nextBoolean() ? "/api/graphs" : "/api/status";
            } else if (pick < 83) {
                name = "GET scores";
                path = "/api/graphs/" + SLUG + "/scores";
            } else {
                readAnnotations(http, base);
                continue;
            }
            HttpResponse<byte[]> r = send(http, name, HttpRequest.newBuilder(base.resolve(path)).GET());
            if (r != null) {
                expect(r, name, 200);
            }
        }
    }

    /** GET annotations, checking the document is whole: every label of it comes from one write. */
    private JsonNode readAnnotations(HttpClient http, URI base) {
        HttpResponse<byte[]> r = send(http, "GET annotations", HttpRequest.newBuilder(base.resolve("/api/graphs/"
                + SLUG + "/annotations")).GET());
        if (r == null || !expect(r, "GET annotations", 200)) {
            return null;
        }
        JsonNode doc = Client.body(r);
        reads.incrementAndGet();
        Set<String> writers = new HashSet<>();
        doc.path("labels").forEach(l -> writers.add(l.asText()));
        if (writers.size() > 1 || (!writers.isEmpty() && !writers.contains(doc.at("/state/clickedId").asText()))) {
            errors.add("a read saw a mixed document at version " + doc.path("version") + ": " + writers);
        }
        return doc;
    }

    private void checkAnnotations(Path graphs, Client client) throws IOException {
        List<Landed> all = new ArrayList<>(landed);
        assertThat(all).as("writes that landed").isNotEmpty();
        long[] versions = all.stream().mapToLong(Landed::version).sorted().toArray();
        long[] expected = new long[versions.length];
        Arrays.setAll(expected, i -> i + 1);
        assertThat(versions).as("landed versions: each once, no gap (no write lost or doubled)").isEqualTo(expected);
        JsonNode stored = Client.JSON.readTree(Files.readAllBytes(graphs.resolve(SLUG + AnnotationStore.SUFFIX)));
        assertThat(stored.get("version").asLong()).isEqualTo(versions.length);
        assertThat(Client.body(client.get("/api/graphs/" + SLUG + "/annotations"))).isEqualTo(stored);
        Landed lastPut = all.stream().filter(l -> !l.subgraph()).max((a, b) -> Long.compare(a.version(), b.version()))
                .orElseThrow();
        Set<String> labels = new HashSet<>();
        stored.get("labels").forEach(l -> labels.add(l.asText()));
        assertThat(labels).as("the file holds the last landed edit").containsExactly(lastPut.tag());
        Set<String> subgraphs = new HashSet<>();
        stored.get("subgraphs").forEach(s -> subgraphs.add(s.get("name").asText()));
        assertThat(subgraphs).as("every added subgraph kept").containsExactlyInAnyOrderElementsOf(all.stream()
                .filter(Landed::subgraph).map(Landed::tag).toList());
        try (var list = Files.list(graphs)) {
            assertThat(list.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList())
                    .as("temporary files left").isEmpty();
        }
    }

    private HttpResponse<byte[]> send(HttpClient http, String name, HttpRequest.Builder b) {
        long t0 = System.nanoTime();
        try {
            HttpResponse<byte[]> r = http.send(b.timeout(Duration.ofSeconds(60)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            long micros = (System.nanoTime() - t0) / 1000;
            Route route = routes.computeIfAbsent(name, k -> new Route());
            route.requests.incrementAndGet();
            route.samples.add(new long[] {micros});
            if (r.statusCode() >= 500) {
                errors.add(name + " answered " + r.statusCode() + ": " + Client.text(r));
                return null;
            }
            return r;
        } catch (IOException e) {
            errors.add(name + ": " + e);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            errors.add(name + ": interrupted");
            return null;
        }
    }

    private boolean expect(HttpResponse<byte[]> r, String name, int status) {
        if (r.statusCode() != status) {
            errors.add(name + " answered " + r.statusCode() + " (expected " + status + "): " + Client.text(r));
            return false;
        }
        return true;
    }

    private static HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(30))
                .build();
    }

    private static HttpRequest.BodyPublisher body(JsonNode json) {
        return HttpRequest.BodyPublishers.ofString(Client.json(json));
    }

    private void report(int seconds, double elapsed, long maxHeap, long afterGc, long heapLimit) {
        long total = routes.values().stream().mapToLong(r -> r.requests.get()).sum();
        List<Long> all = new ArrayList<>();
        StringBuilder s = new StringBuilder();
        s.append(String.format("load: %d clients (%d tabs) for %d s on loopback: %d requests in %.1f s = %.0f req/s, "
                + "%d errors%n", CLIENTS, TABS, seconds, total, elapsed, total / elapsed, errors.size()));
        for (Map.Entry<String, Route> e : new TreeMap<>(routes).entrySet()) {
            List<Long> l = new ArrayList<>();
            synchronized (e.getValue().samples) {
                e.getValue().samples.forEach(x -> l.add(x[0]));
            }
            all.addAll(l);
            s.append(String.format("  %-18s %7d requests  p50 %7.1f ms  p99 %7.1f ms%n", e.getKey(), l.size(),
                    percentile(l, 50), percentile(l, 99)));
        }
        s.append(String.format("  %-18s %7d requests  p50 %7.1f ms  p99 %7.1f ms%n", "all", all.size(),
                percentile(all, 50), percentile(all, 99)));
        long puts = landed.stream().filter(l -> !l.subgraph()).count();
        s.append(String.format("  annotation writes: %d landed (%d edits, %d subgraphs), %d refused with 409; %d "
                + "reads checked whole%n", landed.size(), puts, landed.size() - puts, conflicts.get(), reads.get()));
        s.append(String.format("  heap: max %d MiB in use during the run, %d MiB after it and a GC (limit %d MiB)",
                maxHeap >> 20, afterGc >> 20, heapLimit >> 20));
        System.out.println(s);
    }

    private static double percentile(List<Long> micros, int p) {
        if (micros.isEmpty()) {
            return 0;
        }
        List<Long> sorted = new ArrayList<>(micros);
        Collections.sort(sorted);
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i))) / 1000.0;
    }
}
