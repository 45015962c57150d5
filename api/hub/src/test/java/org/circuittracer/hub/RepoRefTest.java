package org.circuittracer.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.circuittracer.spi.CircuitTracerException;
import org.junit.jupiter.api.Test;

class RepoRefTest {

    @Test
    void parsesRepoIdsPathsAndRevisionsAsTheReferenceDoes() {
        assertThat(RepoRef.parse("google/gemma-2-2b")).isEqualTo(new RepoRef("google/gemma-2-2b", null, null));
        assertThat(RepoRef.parse("org/repo@v2")).isEqualTo(new RepoRef("org/repo", null, "v2"));
        assertThat(RepoRef.parse("mwhanna/gemma-scope-2-27b-pt/transcoder_all/width_262k_l0_small"))
                .isEqualTo(new RepoRef("mwhanna/gemma-scope-2-27b-pt", "transcoder_all/width_262k_l0_small", null));
        assertThat(RepoRef.parse("org/repo/sub/@refs/pr/1")).isEqualTo(new RepoRef("org/repo", "sub", "refs/pr/1"));
        assertThat(RepoRef.parse("mntss/transcoder-Llama-3.2-1B").toString()).isEqualTo("mntss/transcoder-Llama-3.2-1B");
        assertThat(RepoRef.parse("org/repo/a/b@v1").toString()).isEqualTo("org/repo/a/b@v1");
        assertThat(RepoRef.parse("google/gemma-2-2b").cacheFolderName()).isEqualTo("models--google--gemma-2-2b");
    }

    @Test
    void localLookingPathsAreNoRepoIds() {
        for (String local : new String[] {"/abs/path", "./org/name", "../org/name", "~/models/x", "models",
                "C:\\models\\x", "org//name", "org/name@", "org/-name", "org/na--me", "org/../x", "a\\b/c", "org/name/../x"}) {
            assertThat(RepoRef.tryParse(local)).as(local).isEmpty();
        }
        assertThat(RepoRef.tryParse("models/llama")).isPresent(); // a missing relative directory may be a repo id
        assertThatThrownBy(() -> RepoRef.parse("models")).isInstanceOf(CircuitTracerException.class)
                .hasMessageContaining("ORG/NAME");
    }

    @Test
    void hfUris() {
        assertThat(RepoRef.parseUri("hf://google/gemma-scope-2b-pt-transcoders/layer_0/width_16k/params.npz"))
                .isEqualTo(new RepoRef("google/gemma-scope-2b-pt-transcoders", "layer_0/width_16k/params.npz", null));
        assertThat(RepoRef.parseUri("hf://org/repo/f.safetensors?revision=abc123").revision()).isEqualTo("abc123");
        assertThatThrownBy(() -> RepoRef.parseUri("org/repo/f")).isInstanceOf(CircuitTracerException.class);
        assertThatThrownBy(() -> RepoRef.parseUri("hf://org/repo/../../f")).isInstanceOf(CircuitTracerException.class);
    }

    @Test
    void downloadCommands() {
        assertThat(RepoRef.parse("google/gemma-2-2b").downloadCommand())
                .isEqualTo("huggingface-cli download google/gemma-2-2b");
        assertThat(RepoRef.parse("google/gemma-2-2b@v1.0").downloadCommand())
                .isEqualTo("huggingface-cli download google/gemma-2-2b --revision v1.0");
        assertThat(RepoRef.parse("org/repo/transcoder_all/width_262k").downloadCommand())
                .isEqualTo("huggingface-cli download org/repo --include 'transcoder_all/width_262k/*'");
        assertThat(RepoRef.parseUri("hf://org/repo/layer_0/params.npz?revision=r1").downloadCommand())
                .isEqualTo("huggingface-cli download org/repo layer_0/params.npz --revision r1");
    }
}
