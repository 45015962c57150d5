package org.circuittracer.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The resolver on a cache laid out as huggingface_hub lays it out: snapshots linking into blobs/, refs/. */
class HubCacheTest {

    static final String C1 = "1111111111111111111111111111111111111111";
    static final String C2 = "2222222222222222222222222222222222222222";

    @TempDir
    Path root;

    HubCache cache;

    @BeforeEach
    void layout() throws IOException {
        // two revisions of google/tiny: main -> C2 (config v2), v1 tag -> C1 (config v1); a nested file in both
        FakeHub.file(root, "google/tiny", C1, "config.json", "{\"v\": 1}");
        FakeHub.file(root, "google/tiny", C1, "layer_0/params.npz", "p0");
        FakeHub.file(root, "google/tiny", C2, "config.json", "{\"v\": 2}");
        FakeHub.file(root, "google/tiny", C2, "layer_0/params.npz", "p0");
        FakeHub.ref(root, "google/tiny", "main", C2);
        FakeHub.ref(root, "google/tiny", "v1", C1);
        FakeHub.ref(root, "google/tiny", "refs/pr/1", C1);
        cache = HubCache.at(root);
    }

    @Test
    void aRepoIdIsItsMainSnapshotWhoseLinksIntoBlobsReadNormally() throws IOException {
        Path dir = cache.resolve("google/tiny");

        assertThat(dir).isEqualTo(root.resolve("models--google--tiny/snapshots/" + C2));
        assertThat(Files.isSymbolicLink(dir.resolve("config.json"))).isTrue();
        assertThat(Files.readString(dir.resolve("config.json"))).isEqualTo("{\"v\": 2}");
        assertThat(cache.locate(RepoRef.parse("google/tiny")).commit()).isEqualTo(C2);
    }

    @Test
    void aRevisionIsABranchOrTagUnderRefsOrACommitHash() throws IOException {
        assertThat(Files.readString(cache.resolve("google/tiny@v1").resolve("config.json"))).contains("1");
        assertThat(Files.readString(cache.resolve("google/tiny@main").resolve("config.json"))).contains("2");
        assertThat(cache.resolve("google/tiny@refs/pr/1")).endsWith(Path.of("snapshots", C1));
        assertThat(cache.resolve("google/tiny@" + C1)).endsWith(Path.of("snapshots", C1));
        assertThat(cache.resolve("google/tiny@2222222")).endsWith(Path.of("snapshots", C2)); // a unique prefix
    }

    @Test
    void aPathInsideTheRepoAndHfUris() throws IOException {
        Path folder = cache.resolve("google/tiny/layer_0@v1");
        assertThat(folder).isEqualTo(root.resolve("models--google--tiny/snapshots/" + C1 + "/layer_0"));

        Path file = cache.resolveUri("hf://google/tiny/layer_0/params.npz?revision=v1");
        assertThat(file).isEqualTo(folder.resolve("params.npz"));
        assertThat(Files.readString(file)).isEqualTo("p0");
        assertThat(cache.resolveUri("hf://google/tiny/config.json")).endsWithRaw(Path.of(C2, "config.json"));
    }

    @Test
    void aMissingRepoSaysWhereItLookedAndHowToFetchIt() {
        assertThatThrownBy(() -> cache.resolve("google/gemma-2-2b"))
                .isInstanceOfSatisfying(NotCachedException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(StandardErrorCode.FILE_NOT_FOUND);
                    assertThat(e.downloadCommand()).isEqualTo("huggingface-cli download google/gemma-2-2b");
                    assertThat(e.getMessage()).contains(root.resolve("models--google--gemma-2-2b").toString())
                            .endsWith("\n  huggingface-cli download google/gemma-2-2b");
                });
        assertThatThrownBy(() -> cache.resolve("google/gemma-2-2b@v2"))
                .isInstanceOfSatisfying(NotCachedException.class, e -> assertThat(e.downloadCommand())
                        .isEqualTo("huggingface-cli download google/gemma-2-2b --revision v2"));
        assertThatThrownBy(() -> HubCache.at(root.resolve("nowhere")).resolve("google/tiny"))
                .hasMessageContaining("the cache directory " + root.resolve("nowhere") + " does not exist");
    }

    @Test
    void aMissingRevisionListsTheCachedOnes() {
        assertThatThrownBy(() -> cache.resolve("google/tiny@v3"))
                .isInstanceOfSatisfying(NotCachedException.class, e -> {
                    assertThat(e.downloadCommand()).isEqualTo("huggingface-cli download google/tiny --revision v3");
                    assertThat(e.getMessage()).contains("Revision v3", "main (commit 222222222222)",
                            "v1 (commit 111111111111)");
                });
        assertThatThrownBy(() -> cache.resolve("google/tiny@3333333333333333333333333333333333333333"))
                .isInstanceOf(NotCachedException.class);
    }

    @Test
    void withoutRefsMainTheCachedCommitsAreNamed() throws IOException {
        FakeHub.file(root, "org/pinned", C1, "config.json", "{}");
        assertThat(cache.resolve("org/pinned@" + C1)).isDirectory();
        assertThatThrownBy(() -> cache.resolve("org/pinned"))
                .isInstanceOfSatisfying(NotCachedException.class, e -> {
                    assertThat(e.getMessage()).contains("Revision main", "commit 111111111111", "org/pinned@REVISION");
                    assertThat(e.downloadCommand()).isEqualTo("huggingface-cli download org/pinned");
                });
    }

    @Test
    void missingFilesAndBlobsAreNamedWithTheLineThatFetchesThem() throws IOException {
        assertThatThrownBy(() -> cache.resolve("google/tiny/layer_9"))
                .isInstanceOfSatisfying(NotCachedException.class, e -> assertThat(e.downloadCommand())
                        .isEqualTo("huggingface-cli download google/tiny --include 'layer_9/*'"));
        assertThatThrownBy(() -> cache.resolveUri("hf://google/tiny/layer_9/params.npz?revision=v1"))
                .isInstanceOfSatisfying(NotCachedException.class, e -> assertThat(e.downloadCommand())
                        .isEqualTo("huggingface-cli download google/tiny layer_9/params.npz --revision v1"));

        // an interrupted download: a snapshot link whose blob is gone
        Path link = root.resolve("models--google--tiny/snapshots/" + C2 + "/layer_0/params.npz");
        Files.delete(link.toRealPath());
        assertThatThrownBy(() -> cache.resolve("google/tiny"))
                .isInstanceOfSatisfying(NotCachedException.class, e -> {
                    assertThat(e.getMessage()).contains("incompletely", "layer_0/params.npz");
                    assertThat(e.downloadCommand()).isEqualTo("huggingface-cli download google/tiny");
                });
        assertThat(cache.contains(RepoRef.parse("google/tiny@v1"))).isFalse(); // v1 shares the blob
    }

    @Test
    void theRootComesFromHfHubCacheThenHfHomeThenXdgThenHome(@TempDir Path home) {
        Map<String, String> all = Map.of("HF_HUB_CACHE", "/a/hub", "HUGGINGFACE_HUB_CACHE", "/b/hub",
                "HF_HOME", "/c", "XDG_CACHE_HOME", "/d");
        assertThat(HubCache.fromEnvironment(all, home).root()).isEqualTo(Path.of("/a/hub"));
        assertThat(HubCache.fromEnvironment(Map.of("HUGGINGFACE_HUB_CACHE", "/b/hub", "HF_HOME", "/c"), home)
                .root()).isEqualTo(Path.of("/b/hub"));
        assertThat(HubCache.fromEnvironment(Map.of("HF_HOME", "/c", "XDG_CACHE_HOME", "/d"), home).root())
                .isEqualTo(Path.of("/c/hub"));
        assertThat(HubCache.fromEnvironment(Map.of("XDG_CACHE_HOME", "/d"), home).root())
                .isEqualTo(Path.of("/d/huggingface/hub"));
        assertThat(HubCache.fromEnvironment(Map.of("HF_HUB_CACHE", " ", "HF_HOME", "~/hf"), home).root())
                .isEqualTo(home.resolve("hf/hub"));
        HubCache fallback = HubCache.fromEnvironment(Map.of(), home);
        assertThat(fallback.root()).isEqualTo(home.resolve(".cache/huggingface/hub"));
        assertThat(fallback.origin()).contains("default");
        assertThat(HubCache.fromEnvironment(all, home).origin()).isEqualTo("HF_HUB_CACHE=/a/hub");
    }

    @Test
    void systemPropertiesOverrideTheEnvironment() {
        String key = HubCache.PROPERTY_PREFIX + "HF_HUB_CACHE";
        String before = System.getProperty(key);
        System.setProperty(key, root.toString());
        try {
            HubCache fromProperty = HubCache.fromEnvironment();
            assertThat(fromProperty.root()).isEqualTo(root);
            assertThat(fromProperty.resolve("google/tiny")).endsWith(Path.of("snapshots", C2));
        } finally {
            if (before == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, before);
            }
        }
    }

    @Test
    void presetsNameTheReferencesRepositoriesPreferringACachedOne() throws IOException {
        assertThat(cache.preset("llama")).contains(RepoRef.parse("mntss/transcoder-Llama-3.2-1B"));
        assertThat(cache.preset("gemma")).contains(RepoRef.parse("mwhanna/gemma-scope-transcoders"));
        assertThat(cache.preset("demo-plt")).isEmpty();
        FakeHub.file(root, "mntss/gemma-scope-transcoders", C1, "config.yaml", "model_kind: transcoder_set\n");
        FakeHub.ref(root, "mntss/gemma-scope-transcoders", "main", C1);
        assertThat(cache.preset("gemma")).contains(RepoRef.parse("mntss/gemma-scope-transcoders"));
    }

    @Test
    void cachedRevisions() {
        assertThat(cache.cachedRevisions("google/tiny")).containsExactly(Map.entry("main", C2),
                Map.entry("refs/pr/1", C1), Map.entry("v1", C1));
        assertThat(cache.cachedRevisions("google/none")).isEmpty();
    }

    @Test
    void badReferencesAreInvalidArguments() {
        assertThatThrownBy(() -> cache.resolve("google/../../etc"))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT));
        assertThatThrownBy(() -> cache.resolve("google/tiny@../../x")).isInstanceOf(CircuitTracerException.class)
                .isNotInstanceOf(NotCachedException.class);
        assertThatThrownBy(() -> cache.resolveUri("hf://google/tiny")).isInstanceOf(CircuitTracerException.class)
                .hasMessageContaining("hf://ORG/NAME/PATH");
    }

    static String read(Path p) throws IOException {
        return Files.readString(p, StandardCharsets.UTF_8);
    }
}
