package org.circuittracer.transcoders.mp;


import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code matching-pursuit.json}, fuzzed with the testkit's harness (docs/develop/fuzzing.md). */
class ManifestFuzzTest {

    @Test
    void mutatedManifestsLoadOrFailWithCircuitTracerException(@TempDir Path tmp) throws Exception {
        MatchingPursuitManifest.of(4, 16, 64, 8, SiteKind.RESID_MID, SiteKind.MLP_OUT, "synthetic/mp").write(tmp);
        byte[] plt = Files.readAllBytes(tmp.resolve(MatchingPursuitManifest.FILE));
        MatchingPursuitManifest.of(1, 2, 3, 1, SiteKind.MLP_IN, SiteKind.MLP_OUT_RAW, "x").write(tmp);
        byte[] small = Files.readAllBytes(tmp.resolve(MatchingPursuitManifest.FILE));
        Fuzzer.Result r = Fuzzer.named("matching-pursuit.json").text().seeds(List.of(plt, small))
                .strings(List.of("hook_resid_mid", "mlp.hook_in", "hook_mlp_out", "formatVersion", "steps"))
                .run((input, dir) -> {
                    Files.write(dir.resolve(MatchingPursuitManifest.FILE), input);
                    MatchingPursuitManifest.read(dir);
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }

    /** A manifest that is JSON null threw NullPointerException (found while applying the fuzzer). */
    @Test
    void aNullManifestIsMalformed(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(MatchingPursuitManifest.FILE), "null");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> MatchingPursuitManifest.read(dir))
                .isInstanceOf(org.circuittracer.spi.CircuitTracerException.class).hasMessageContaining("JSON null");
    }
}
