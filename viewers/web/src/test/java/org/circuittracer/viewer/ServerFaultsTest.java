package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.circuittracer.attribution.export.GraphJsonExporter;
import org.circuittracer.attribution.io.AtomicFiles;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionPhase;
import org.circuittracer.viewer.annotations.AnnotationStore;
import org.circuittracer.viewer.files.FileWrites;
import org.circuittracer.viewer.work.ModelWorkbench;
import org.circuittracer.viewer.work.NewGraphRequest;
import org.circuittracer.viewer.work.SteerRequest;
import org.circuittracer.viewer.work.SteerResult;
import org.circuittracer.viewer.work.WorkbenchInfo;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults around the server (docs/reliability.md): a read-only graph directory, a full disk, a graph file replaced
 * while it is served, clients that hang up mid-download, stale temporary files of a crash, and new-graph jobs that
 * are cancelled or whose model throws. Each must give the page a JSON error that says what to do and leave the
 * directory consistent: the previous files whole, no partial JSON, no temporary files.
 */
class ServerFaultsTest {

    private static final String SLUG = TestGraphs.SMALL;
    private static final String EDIT = "{\"baseVersion\": 1, \"labels\": {\"1_40_3\": \"second edit\"}}";

    @TempDir
    Path tmp;

    private Path graphDir() throws IOException {
        Path graphs = tmp.resolve("graphs");
        TestGraphs.write(graphs, TestGraphs.smallGraph(SLUG));
        return graphs;
    }

    /** Saves a first version of the annotations, then returns every file of the directory with its bytes. */
    private static Map<String, byte[]> firstSave(Client client, Path graphs) throws IOException {
        HttpResponse<byte[]> r = client.put("/api/graphs/" + SLUG + "/annotations",
                "{\"baseVersion\": 0, \"labels\": {\"1_40_3\": \"first edit\"}}");
        assertThat(r.statusCode()).isEqualTo(200);
        return contents(graphs);
    }

    @Test
    void aWriteFailureOfAReadOnlyDirectoryIsA507ThatSaysWhatToDoAndChangesNothing() throws Exception {
        Path graphs = graphDir();
        AtomicBoolean readOnly = new AtomicBoolean();
        // the failure AtomicFiles reports when the directory refuses the temporary file (as for a non-root user)
        FileWrites writes = (file, bytes) -> {
            if (readOnly.get()) {
                throw AtomicFiles.cannotWrite(file, new AccessDeniedException(file.resolveSibling(".x.1.tmp").toString()));
            }
            FileWrites.ATOMIC.write(file, bytes);
        };
        try (ViewerServer server = ViewerServer.start(ViewerConfig.of(graphs).withPort(0), writes)) {
            Client client = new Client(server.url());
            Map<String, byte[]> before = firstSave(client, graphs);
            readOnly.set(true);
            for (String[] write : writesOfThePage()) {
                HttpResponse<byte[]> r = client.send(write[0], write[1], write[2]);
                assertThat(r.statusCode()).as(write[1]).isEqualTo(507);
                JsonNode e = Client.body(r);
                assertThat(e.get("error").asText()).isEqualTo("CANNOT_WRITE");
                assertThat(e.get("message").asText()).as(write[1]).contains("is not writable", "Make it writable",
                        "save again", "Nothing was changed");
                assertThat(contents(graphs)).as("the directory after " + write[1]).containsOnlyKeys(before.keySet())
                        .allSatisfy((name, bytes) -> assertThat(bytes).as(name).isEqualTo(before.get(name)));
            }
            // once writable again, the page's retry (from the version it had) lands
            readOnly.set(false);
            assertThat(client.put("/api/graphs/" + SLUG + "/annotations", EDIT).statusCode()).isEqualTo(200);
            assertThat(Client.body(client.get("/api/graphs/" + SLUG + "/annotations")).at("/labels/1_40_3").asText())
                    .isEqualTo("second edit");
        }
    }

    @Test
    void aReallyReadOnlyDirectoryRefusesSavesTheSameWay() throws Exception {
        Path graphs = graphDir();
        try (ViewerServer server = ViewerServer.start(ViewerConfig.of(graphs).withPort(0))) {
            Client client = new Client(server.url());
            Map<String, byte[]> before = firstSave(client, graphs);
            Files.setPosixFilePermissions(graphs, PosixFilePermissions.fromString("r-xr-xr-x"));
            try {
                Assumptions.assumeFalse(Files.isWritable(graphs), "running as root: a read-only directory is still "
                        + "writable, so this case is covered by the injected failure of the test above");
                HttpResponse<byte[]> r = client.put("/api/graphs/" + SLUG + "/annotations", EDIT);
                assertThat(r.statusCode()).isEqualTo(507);
                assertThat(Client.body(r).get("message").asText()).contains("is not writable");
                assertThat(contents(graphs)).containsOnlyKeys(before.keySet());
            } finally {
                Files.setPosixFilePermissions(graphs, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
    }

    @Test
    void aFullDiskIsA507ThatSaysWhatToDoAndLeavesNoPartialFile() throws Exception {
        Path graphs = graphDir();
        AtomicBoolean full = new AtomicBoolean();
        // a disk that fills while the temporary file is written: half of it lands, then ENOSPC; the writer removes
        // its temporary file as AtomicFiles does
        FileWrites writes = (file, bytes) -> {
            if (!full.get()) {
                FileWrites.ATOMIC.write(file, bytes);
                return;
            }
            Path partial = AtomicFiles.temporaryFor(file);
            try {
                Files.write(partial, Arrays.copyOf(bytes, bytes.length / 2));
                throw AtomicFiles.cannotWrite(file, new IOException("No space left on device"));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } finally {
                AtomicFiles.deleteQuietly(partial);
            }
        };
        try (ViewerServer server = ViewerServer.start(ViewerConfig.of(graphs).withPort(0), writes)) {
            Client client = new Client(server.url());
            Map<String, byte[]> before = firstSave(client, graphs);
            full.set(true);
            for (String[] write : writesOfThePage()) {
                HttpResponse<byte[]> r = client.send(write[0], write[1], write[2]);
                assertThat(r.statusCode()).as(write[1]).isEqualTo(507);
                assertThat(Client.body(r).get("message").asText()).as(write[1]).contains("is full", "Free some space",
                        "save again");
                for (String name : before.keySet()) {
                    assertThat(Files.readAllBytes(graphs.resolve(name))).as(name).isEqualTo(before.get(name));
                }
                assertThat(temporaries(graphs)).isEmpty();
            }
            full.set(false);
            assertThat(client.put("/api/graphs/" + SLUG + "/annotations", EDIT).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void staleTemporaryFilesOfACrashAreDeletedAtStartupAndNeverServed() throws Exception {
        Path graphs = graphDir();
        // what kill -9 during a save leaves: a torn temporary file; one of a writer still running is fresh
        Path stale = graphs.resolve("." + SLUG + AnnotationStore.SUFFIX + ".1f2e3d4c5b6a7980.tmp");
        Files.writeString(stale, "{\"format\": \"circuit-tracer-annotations\", \"labels\": {\"1_40");
        Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        Path fresh = graphs.resolve("." + SLUG + ".json.abc123.tmp");
        Files.writeString(fresh, "{\"nodes\": [");
        Path notOurs = graphs.resolve("notes.tmp");
        Files.writeString(notOurs, "a user's file that only looks temporary");
        Files.setLastModifiedTime(notOurs, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        try (ViewerServer server = ViewerServer.start(ViewerConfig.of(graphs).withPort(0))) {
            assertThat(stale).doesNotExist();
            assertThat(fresh).as("a temporary file younger than " + FileWrites.STALE_AFTER + " may be another "
                    + "process's write in progress").exists();
            assertThat(notOurs).exists();
            Client client = new Client(server.url());
            HttpResponse<byte[]> r = client.get("/data/." + SLUG + ".json.abc123.tmp");
            assertThat(r.statusCode()).isEqualTo(404);
            assertThat(Client.body(r).get("error").asText()).isEqualTo("NOT_FOUND");
            assertThat(Client.body(client.get("/api/graphs")).get("graphs")).hasSize(1);
            assertThat(client.get("/api/graphs/" + SLUG + "/annotations").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aGraphFileReplacedWhileServedIsSentWholeOldOrNew() throws Exception {
        Path graphs = tmp.resolve("graphs");
        TestGraphs.write(graphs, TestGraphs.largeGraph("big", 3_000, 20, 8, 8, 1));
        byte[] a = Files.readAllBytes(graphs.resolve("big.json"));
        TestGraphs.write(tmp.resolve("other"), TestGraphs.largeGraph("big", 2_000, 20, 8, 8, 2));
        byte[] b = Files.readAllBytes(tmp.resolve("other").resolve("big.json"));
        Set<Integer> totals = Set.of(3_000 + 20 + 1, 2_000 + 20 + 1);
        try (ViewerServer server = ViewerServer.start(ViewerConfig.of(graphs).withPort(0))) {
            URI base = server.url();
            ExecutorService pool = Executors.newFixedThreadPool(5);
            AtomicBoolean stop = new AtomicBoolean();
            try {
                List<Future<Integer>> readers = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    boolean gzip = t % 2 == 0;
                    readers.add(pool.submit(() -> {
                        HttpClient http = HttpClient.newHttpClient();
                        int seen = 0;
                        for (int i = 0; i < 8; i++) {
                            HttpRequest.Builder req = HttpRequest.newBuilder(base.resolve("/data/big.json"))
                                    .timeout(Duration.ofSeconds(60));
                            if (gzip) {
                                req.header("Accept-Encoding", "gzip");
                            }
                            HttpResponse<byte[]> r = http.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
                            assertThat(r.statusCode()).isEqualTo(200);
                            byte[] body = r.headers().firstValue("Content-Encoding").isPresent() ? gunzip(r.body())
                                    : r.body();
                            assertThat(Arrays.equals(body, a) || Arrays.equals(body, b))
                                    .as("download %d is the whole old or the whole new file (%d bytes)", i,
                                            body.length).isTrue();
                            JsonNode view = Client.body(http.send(HttpRequest.newBuilder(base.resolve(
                                    "/api/graphs/big/view")).build(), HttpResponse.BodyHandlers.ofByteArray()));
                            assertThat(totals).contains(view.at("/view/totalNodes").asInt());
                            seen++;
                        }
                        return seen;
                    }));
                }
                Future<Integer> replacer = pool.submit(() -> {
                    int n = 0;
                    while (!stop.get() && n < 2_000) {
                        // as every writer of graphs does: a whole new file renamed over the old one
                        Path next = graphs.resolve(".big.json." + n + ".tmp");
                        Files.write(next, n % 2 == 0 ? b : a);
                        Files.move(next, graphs.resolve("big.json"), StandardCopyOption.ATOMIC_MOVE,
                                StandardCopyOption.REPLACE_EXISTING);
                        n++;
                        Thread.sleep(5);
                    }
                    return n;
                });
                int downloads = 0;
                for (Future<Integer> f : readers) {
                    downloads += f.get(5, TimeUnit.MINUTES);
                }
                stop.set(true);
                int replacements = replacer.get(1, TimeUnit.MINUTES);
                System.out.printf("graph replaced %d times during %d downloads and views%n", replacements, downloads);
                assertThat(replacements).isPositive();
            } finally {
                stop.set(true);
                pool.shutdownNow();
            }
        }
    }

    @Test
    void clientsThatHangUpMidDownloadLeaveNoOpenFileAndTheServerAnswers() throws Exception {
        Path graphs = tmp.resolve("graphs");
        TestGraphs.write(graphs, TestGraphs.largeGraph("huge", 10_000, 40, 16, 12, 7));
        Path file = graphs.resolve("huge.json").toRealPath();
        try (ViewerServer server = ViewerServer.start(ViewerConfig.of(graphs).withPort(0))) {
            URI base = server.url();
            for (int i = 0; i < 20; i++) {
                try (Socket s = new Socket(base.getHost(), base.getPort())) {
                    s.setReceiveBufferSize(4096);
                    s.getOutputStream().write(("GET /data/huge.json HTTP/1.1\r\nHost: x\r\n"
                            + (i % 2 == 0 ? "Accept-Encoding: gzip\r\n" : "") + "\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    InputStream in = s.getInputStream();
                    assertThat(in.readNBytes(2048)).hasSize(2048);
                    s.setSoLinger(true, 0); // a reset, as a closed tab or a killed curl
                }
            }
            // the server notices at its next write; give it a bounded time to close what it had open
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (openDescriptorsOf(file) > 0 && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            assertThat(openDescriptorsOf(file)).as("open descriptors of the graph file").isZero();
            Client client = new Client(base);
            assertThat(client.get("/api/status").statusCode()).isEqualTo(200);
            HttpResponse<byte[]> whole = client.get("/data/huge.json");
            assertThat(whole.body()).isEqualTo(Files.readAllBytes(file));
        }
    }

    @Test
    void aNewGraphJobWhoseModelThrowsFailsClearlyAndWritesNothing() throws Exception {
        Path graphs = graphDir();
        Map<String, byte[]> before = contents(graphs);
        ThrowingWorkbench model = new ThrowingWorkbench();
        try (ViewerServer server = ViewerServer.start(ViewerConfig.of(graphs).withPort(0).withWorkbench(model))) {
            Client client = new Client(server.url());
            model.failure = new IllegalStateException("simulated backend failure");
            JsonNode failed = finished(client, startJob(client, "crash"));
            assertThat(failed.get("state").asText()).isEqualTo("failed");
            assertThat(failed.at("/last/data/message").asText()).contains("'crash'", "simulated backend failure",
                    "No graph was written", "keeps running");
            model.failure = AtomicFiles.cannotWrite(graphs.resolve("full.json"), new IOException("No space left on "
                    + "device"));
            failed = finished(client, startJob(client, "full"));
            assertThat(failed.at("/last/data/code").asText()).isEqualTo("FILE_NOT_FOUND");
            assertThat(failed.at("/last/data/message").asText()).contains("disk has space");
            model.failure = new OutOfMemoryError("Java heap space");
            failed = finished(client, startJob(client, "oom"));
            assertThat(failed.at("/last/data/message").asText()).contains("ran out of memory");
            // the model thread survives all of it
            model.failure = null;
            assertThat(finished(client, startJob(client, "fine")).get("state").asText()).isEqualTo("done");
            // steering through a throwing model: a 500 that says the server goes on
            model.failure = new IllegalStateException("simulated steering failure");
            HttpResponse<byte[]> steer = client.post("/api/graphs/" + SLUG + "/steer", Map.of("interventions",
                    List.of(Map.of("nodeId", "1_40_3", "mode", "scale", "value", 0))));
            assertThat(steer.statusCode()).isEqualTo(500);
            assertThat(Client.body(steer).get("message").asText()).contains("simulated steering failure",
                    "keeps running");
        }
        assertThat(contents(graphs)).as("the graph directory").containsOnlyKeys(before.keySet());
    }

    @Test
    void aCancelledNewGraphJobWritesNothing() throws Exception {
        Path graphs = graphDir();
        Map<String, byte[]> before = contents(graphs);
        ThrowingWorkbench model = new ThrowingWorkbench();
        model.block = true;
        try (ViewerServer server = ViewerServer.start(ViewerConfig.of(graphs).withPort(0).withWorkbench(model))) {
            Client client = new Client(server.url());
            String id = startJob(client, "cancel-me");
            assertThat(model.running.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(client.send("DELETE", "/api/jobs/" + id, null).statusCode()).isEqualTo(202);
            JsonNode job = finished(client, id);
            assertThat(job.get("state").asText()).isEqualTo("cancelled");
            assertThat(job.at("/last/data/message").asText()).contains("no graph was written");
        }
        assertThat(contents(graphs)).containsOnlyKeys(before.keySet());
        for (Map.Entry<String, byte[]> e : before.entrySet()) {
            assertThat(Files.readAllBytes(graphs.resolve(e.getKey()))).as(e.getKey()).isEqualTo(e.getValue());
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** Every write route of the page: annotations, a saved subgraph, the reference's save_graph. */
    private static List<String[]> writesOfThePage() {
        return List.of(
                new String[] {"PUT", "/api/graphs/" + SLUG + "/annotations", EDIT},
                new String[] {"POST", "/api/graphs/" + SLUG + "/subgraphs", "{\"name\": \"cats\", \"pinnedIds\": "
                        + "[\"1_40_3\"]}"},
                new String[] {"POST", "/save_graph/" + SLUG, "{\"qParams\": {\"pinnedIds\": [\"1_40_3\"]}}"});
    }

    private static String startJob(Client client, String slug) {
        HttpResponse<byte[]> r = client.post("/api/graphs", Map.of("prompt", "the cat sat", "slug", slug));
        assertThat(r.statusCode()).as(Client.text(r)).isEqualTo(202);
        return Client.body(r).get("id").asText();
    }

    /** Polls the job until it has finished (bounded). */
    private static JsonNode finished(Client client, String id) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < until) {
            JsonNode job = Client.body(client.get("/api/jobs/" + id));
            if (Set.of("done", "failed", "cancelled").contains(job.get("state").asText())) {
                return job;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("job " + id + " did not finish within 60 s");
    }

    private static Map<String, byte[]> contents(Path dir) throws IOException {
        Map<String, byte[]> out = new java.util.TreeMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path p : (Iterable<Path>) list::iterator) {
                out.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    private static List<String> temporaries(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).filter(FileWrites::isTemporary).toList();
        }
    }

    /** This JVM's open file descriptors on {@code file} (Linux {@code /proc/self/fd}). */
    private static long openDescriptorsOf(Path file) throws IOException {
        Path fds = Path.of("/proc/self/fd");
        Assumptions.assumeTrue(Files.isDirectory(fds), "needs /proc/self/fd (Linux)");
        long n = 0;
        try (Stream<Path> list = Files.list(fds)) {
            for (Path fd : (Iterable<Path>) list::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).equals(file)) {
                        n++;
                    }
                } catch (IOException ignored) {
                    // closed meanwhile
                }
            }
        }
        return n;
    }

    private static byte[] gunzip(byte[] body) throws IOException {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
            return in.readAllBytes();
        }
    }

    /** A model that fails as told, or waits to be cancelled; it never writes a file. */
    private static final class ThrowingWorkbench implements ModelWorkbench {
        volatile Throwable failure;
        volatile boolean block;
        final CountDownLatch running = new CountDownLatch(1);

        @Override
        public WorkbenchInfo info() {
            return new WorkbenchInfo("faulty", "none", 2);
        }

        @Override
        public GraphJsonExporter.Result createGraph(NewGraphRequest request, Path directory,
                                                    AttributionListener listener) {
            listener.phaseStarted(AttributionPhase.values()[0], 10);
            listener.progress(AttributionPhase.values()[0], 3, 10);
            running.countDown();
            if (block) {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!listener.isCancelled() && System.nanoTime() < until) {
                    try {
                        Thread.sleep(1); // a batch of work; the runner checks cancellation between batches
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
                throw new CircuitTracerException(StandardErrorCode.CANCELLED, "cancelled at a batch boundary");
            }
            fail();
            return new GraphJsonExporter.Result(directory.resolve(request.slug() + ".json"),
                    directory.resolve("graph-metadata.json"), 0, 0, List.of(), List.of(),
                    new org.circuittracer.attribution.prune.GraphScores.Scores(Double.NaN, Double.NaN));
        }

        @Override
        public SteerResult steer(SteerRequest request) {
            fail();
            SteerResult.Run run = new SteerResult.Run("", "", List.of());
            return new SteerResult(run, run);
        }

        private void fail() {
            Throwable f = failure;
            if (f instanceof RuntimeException r) {
                throw r;
            }
            if (f instanceof Error e) {
                throw e;
            }
        }
    }
}
