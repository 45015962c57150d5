package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.circuittracer.hub.HubCache;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.testkit.SharedFixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hugging Face repo ids on the command line, offline: the tiny llama fixture and its per-layer transcoders laid out as
 * a Hugging Face cache (snapshot files linking into blobs/, refs/main), found through HF_HUB_CACHE (set in-process
 * through the resolver's system property), with the reference CLI's snake_case option names.
 */
class HubIdsCommandTest {

    private static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    private static final String PROPERTY = HubCache.PROPERTY_PREFIX + "HF_HUB_CACHE";

    @TempDir
    static Path cache;

    private static String before;
    private static String goldenIds;

    @BeforeAll
    static void fakeCache() throws IOException {
        Path model = SharedFixtures.resolve("tiny-models/llama");
        Path transcoders = SharedFixtures.resolve("tiny-transcoders/llama-plt-relu");
        try (SafetensorsFile golden = SafetensorsFile.open(model.resolve("golden.safetensors"))) {
            goldenIds = Arrays.stream(golden.readInts("p0.input_ids")).mapToObj(Integer::toString)
                    .collect(Collectors.joining(","));
        }
        addRepo("test/tiny-llama", model, UnaryOperator.identity());
        // the reference's model_name names the model repo, as in mntss/gemma-scope-transcoders
        addRepo("test/tiny-llama-plt", transcoders, text -> text.replaceAll("(?m)^model_name:.*$",
                "model_name: test/tiny-llama"));
        before = System.getProperty(PROPERTY);
        System.setProperty(PROPERTY, cache.toString());
    }

    @AfterAll
    static void restore() {
        if (before == null) {
            System.clearProperty(PROPERTY);
        } else {
            System.setProperty(PROPERTY, before);
        }
    }

    /** Copies {@code source}'s files into blobs/ and links them from snapshots/COMMIT/, as huggingface_hub does. */
    private static void addRepo(String repoId, Path source, UnaryOperator<String> editYaml) throws IOException {
        Path repo = cache.resolve("models--" + repoId.replace("/", "--"));
        Path snapshot = repo.resolve("snapshots").resolve(COMMIT);
        Files.createDirectories(repo.resolve("blobs"));
        Files.createDirectories(snapshot);
        List<Path> files;
        try (Stream<Path> s = Files.list(source)) {
            files = s.filter(Files::isRegularFile).toList();
        }
        for (Path file : files) {
            byte[] bytes = Files.readAllBytes(file);
            if (file.getFileName().toString().endsWith(".yaml")) {
                bytes = editYaml.apply(new String(bytes, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
            }
            Path blob = repo.resolve("blobs").resolve(sha256(bytes));
            Files.write(blob, bytes);
            Files.createSymbolicLink(snapshot.resolve(file.getFileName().toString()), snapshot.relativize(blob));
        }
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), COMMIT);
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String[] attribute(Path dir, String... more) {
        List<String> args = new ArrayList<>(List.of("attribute", "--prompt-ids", goldenIds, "--slug", "p0",
                "--graph_file_dir", dir.toString(), "--max_feature_nodes", "64", "--batch_size", "32",
                "--node_threshold", "0.7", "--edge_threshold", "0.9", "--max_n_logits", "3", "--desired_logit_prob",
                "0.9"));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    @Test
    void repoIdsFromTheCacheWithTheReferencesOptionNames(@TempDir Path dir) throws IOException {
        Path graphFile = dir.resolve("p0.graph.safetensors");
        CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run(attribute(dir.resolve("graphs"), "--model",
                "test/tiny-llama", "--transcoder_set", "test/tiny-llama-plt", "--graph_output_path",
                graphFile.toString()));

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).contains("Loading model " + cache.resolve("models--test--tiny-llama/snapshots/" + COMMIT))
                .contains("reference-plt");
        JsonNode json = new ObjectMapper().readTree(dir.resolve("graphs/p0.json").toFile());
        assertThat(json.get("nodes").size()).isPositive();
        assertThat(json.get("metadata").get("node_threshold").asDouble()).isEqualTo(0.7);
        assertThat(graphFile).isRegularFile();
        // the serve command it prints names the repos again, not the snapshot paths
        assertThat(r.out()).contains("circuit-tracer serve --graph-file-dir " + dir.resolve("graphs")
                + " --model test/tiny-llama --transcoders test/tiny-llama-plt");

        // export and intervene take the same repo ids (and export the reference's option names)
        CircuitTracerCommandTest.Run export = CircuitTracerCommandTest.run("export", graphFile.toString(), "-m",
                "test/tiny-llama", "-t", "test/tiny-llama-plt", "--graph_file_dir", dir.resolve("again").toString(),
                "--node_threshold", "0.6", "--edge_threshold", "0.9", "--quiet");
        assertThat(export.exit()).as(export.err()).isZero();
        assertThat(new ObjectMapper().readTree(dir.resolve("again/p0.json").toFile()).get("metadata")
                .get("node_threshold").asDouble()).isEqualTo(0.6);
        CircuitTracerCommandTest.Run intervene = CircuitTracerCommandTest.run("intervene", "--model",
                "test/tiny-llama@" + COMMIT.substring(0, 7), "--transcoders", "test/tiny-llama-plt", "--prompt-ids",
                goldenIds, "-i", "0:1:all*0", "--quiet");
        assertThat(intervene.exit()).as(intervene.err()).isZero();
    }

    @Test
    void theModelComesFromTheTranscodersConfigWhenTheyAreARepoAsInTheReference(@TempDir Path dir) {
        CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run(attribute(dir, "-t", "test/tiny-llama-plt@main"));

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).contains("Loading model " + cache.resolve("models--test--tiny-llama/snapshots/" + COMMIT));
        assertThat(dir.resolve("p0.json")).isRegularFile();
    }

    @Test
    void aLocalDirectoryWinsOverARepoId() throws IOException {
        // "target/hub-local" looks like a repo id; relative to the working directory (the module) it exists
        Path local = Files.createDirectories(Path.of("target", "hub-local"));
        ModelOptions.Located found = ModelOptions.locate("target/hub-local", "--model", HubCache.fromEnvironment(),
                false);
        assertThat(found.path()).isEqualTo(local);
        assertThat(found.repo()).isNull();
        ModelOptions.Located repo = ModelOptions.locate("test/tiny-llama", "--model", HubCache.fromEnvironment(),
                false);
        assertThat(repo.path()).isEqualTo(cache.resolve("models--test--tiny-llama/snapshots/" + COMMIT));
        assertThat(repo.repo()).hasToString("test/tiny-llama");
        assertThat(ModelOptions.locate("hf://test/tiny-llama/config.json?revision=main", "--model",
                HubCache.fromEnvironment(), false).path()).isEqualTo(repo.path().resolve("config.json"));
        Files.delete(local);
    }

    @Test
    void aMissingRepoGivesTheDownloadLineAndExitCode2(@TempDir Path dir) {
        CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run(attribute(dir, "--model", "google/gemma-2-2b",
                "--transcoder_set", "test/tiny-llama-plt"));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("[FILE_NOT_FOUND] --model google/gemma-2-2b is not a local directory")
                .contains(cache.resolve("models--google--gemma-2-2b").toString())
                .contains("\n  huggingface-cli download google/gemma-2-2b\n");

        r = CircuitTracerCommandTest.run(attribute(dir, "--model", "google/gemma-2-2b", "--transcoder_set", "gemma"));
        assertThat(r.exit()).isEqualTo(2); // both missing: one error, both lines
        assertThat(r.err()).contains("\n  huggingface-cli download google/gemma-2-2b\n")
                .contains("\n  huggingface-cli download mwhanna/gemma-scope-transcoders");

        r = CircuitTracerCommandTest.run(attribute(dir, "--model", "test/tiny-llama@v2", "--transcoders",
                "test/tiny-llama-plt"));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("cached revisions: main (commit 0123456789ab)")
                .contains("huggingface-cli download test/tiny-llama --revision v2");
        assertThat(dir.resolve("p0.json")).doesNotExist();
    }

    @Test
    void theReferencesPresetsNameItsRepos(@TempDir Path dir) {
        CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run(attribute(dir, "--model", "test/tiny-llama",
                "--transcoder_set", "llama"));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--transcoders llama is the reference's preset for Hugging Face repo "
                + "mntss/transcoder-Llama-3.2-1B").contains("huggingface-cli download mntss/transcoder-Llama-3.2-1B");

        r = CircuitTracerCommandTest.run("features", "--model", "test/tiny-llama", "-t", "gemma", "--corpus",
                dir.resolve("corpus.txt").toString(), "--output-dir", dir.resolve("f").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("huggingface-cli download mwhanna/gemma-scope-transcoders");
    }

    @Test
    void serveAcceptsTheReferencesStartServerSpelling(@TempDir Path dir) {
        CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run("start-server", "--graph_file_dir",
                dir.resolve("none").toString(), "--no-model");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--graph-file-dir " + dir.resolve("none") + " is not a directory");
    }
}
