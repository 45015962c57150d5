package org.circuittracer.transcoders.mp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What makes matching pursuit what it is, and its file errors. */
class MatchingPursuitTest {

    @TempDir
    Path temp;

    private final NDManager manager = NDManager.newBaseManager();

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void withOrthonormalAtomsEveryStepPeelsOffOneCoordinate() {
        // atoms = the standard basis of R^4: pursuit picks the largest positive coordinates, one per step
        float[] basis = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
        float[] decoder = new float[16];
        for (int i = 0; i < 4; i++) {
            decoder[i * 4 + i] = 2; // decode doubles each coordinate
        }
        MatchingPursuitWriter.write(temp.resolve("basis"), MatchingPursuitManifest.of(1, 4, 4, 2, SiteKind.MLP_IN,
                        SiteKind.MLP_OUT, ""),
                List.of(new MatchingPursuitWriter.LayerWeights(basis, decoder, new float[4], new float[4])), DType.F32);
        try (SparseDictionary d = new MatchingPursuitProvider().create(DictionarySource.of(temp.resolve("basis")))) {
            NDArray x = manager.create(new float[] {0.5f, -3f, 2f, 1f}, new Shape(1, 4));
            assertThat(d.encode(manager, 0, x, Set.of()).toFloatArray()).containsExactly(0.5f * 0, 0f, 2f, 1f);
            SparseActivations code = d.encodeSparse(manager, 0, x, Set.of());
            assertThat(code.features()).containsExactly(2, 3);
            assertThat(d.decode(manager, 0, List.of(code), x).toFloatArray()).containsExactly(0f, 0f, 4f, 2f);
            // the pre-activation of a feature is the first step's score, a linear function of the input
            assertThat(d.preActivations(manager, 0, x).toFloatArray()).containsExactly(0.5f, -3f, 2f, 1f);
        }
    }

    @Test
    void aBlankScanIsTheDirectorysAbsoluteNormalisedPathAndANamedOneIsKept() {
        float[] identity = {1, 0, 0, 1};
        for (String scan : new String[] {"", "org/pursuit"}) {
            Path dir = temp.resolve(scan.isEmpty() ? "local" : "named");
            MatchingPursuitWriter.write(dir, MatchingPursuitManifest.of(1, 2, 2, 1, SiteKind.MLP_IN, SiteKind.MLP_OUT,
                    scan), List.of(new MatchingPursuitWriter.LayerWeights(identity, identity, new float[2],
                    new float[2])), DType.F32);
            Path relative = Path.of("").toAbsolutePath().relativize(dir.toAbsolutePath()).resolve(".");
            try (SparseDictionary d = new MatchingPursuitProvider().create(DictionarySource.of(relative))) {
                assertThat(d.scan()).isEqualTo(scan.isEmpty() ? dir.toAbsolutePath().normalize().toString() : scan);
            }
        }
    }

    @Test
    void neverMoreActiveFeaturesThanStepsAndTheResidualShrinks() {
        Path dir = SyntheticPursuitDictionaries.write(temp.resolve("r"), 1, 16, 64, 5, DType.F32, 9);
        try (SparseDictionary d = new MatchingPursuitProvider().create(DictionarySource.of(dir))) {
            Random random = new Random(4);
            NDArray x = manager.create(SyntheticPursuitDictionaries.gaussian(random, 8 * 16, 1), new Shape(8, 16));
            SparseActivations code = d.encodeSparse(manager, 0, x, Set.of(0));
            for (int p = 0; p < 8; p++) {
                int position = p;
                long active = java.util.stream.IntStream.range(0, code.size()).filter(i -> code.positionAt(i) == position)
                        .count();
                assertThat(active).as("position %d", p).isLessThanOrEqualTo(p == 0 ? 0 : 5);
            }
            for (float v : code.values()) {
                assertThat(v).isPositive();
            }
        }
    }

    @Test
    void versionsAndBrokenFilesAreDistinctClearErrors() throws IOException {
        Path dir = SyntheticPursuitDictionaries.write(temp.resolve("v"), 2, 8, 10, 2, DType.F32, 3);
        Path manifest = dir.resolve(MatchingPursuitManifest.FILE);
        String text = Files.readString(manifest);
        MatchingPursuitProvider provider = new MatchingPursuitProvider();

        Files.writeString(manifest, text.replace("\"formatVersion\" : 1", "\"formatVersion\" : 7"));
        assertThatThrownBy(() -> provider.create(DictionarySource.of(dir))).isInstanceOfSatisfying(
                CircuitTracerException.class, e -> assertThat(e.errorCode())
                        .isEqualTo(StandardErrorCode.UNSUPPORTED_FORMAT_VERSION)).hasMessageContaining("Upgrade");
        Files.writeString(manifest, text.replace("\"formatVersion\" : 1", "\"formatVersion\" : 0"));
        assertThatThrownBy(() -> provider.create(DictionarySource.of(dir))).hasMessageContaining("older");
        Files.writeString(manifest, text.replace("\"steps\" : 2", "\"steps\" : 2, \"extra\" : 1"));
        assertThatThrownBy(() -> provider.create(DictionarySource.of(dir))).isInstanceOfSatisfying(
                CircuitTracerException.class, e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE))
                .hasMessageContaining("extra");
        Files.writeString(manifest, text.replace("hook_resid_mid", "hook_resid_pre"));
        assertThatThrownBy(() -> provider.create(DictionarySource.of(dir))).hasMessageContaining("readSite");
        Files.writeString(manifest, text);

        Files.delete(dir.resolve("layer_1.safetensors"));
        assertThatThrownBy(() -> provider.create(DictionarySource.of(dir))).isInstanceOfSatisfying(
                CircuitTracerException.class, e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.FILE_NOT_FOUND))
                .hasMessageContaining("layer_1.safetensors");
        new SafetensorsWriter().addFloats(MatchingPursuitDictionary.ATOMS, new long[] {10, 7}, new float[70])
                .addFloats(MatchingPursuitDictionary.DECODER, new long[] {10, 8}, new float[80])
                .addFloats(MatchingPursuitDictionary.INPUT_BIAS, new long[] {8}, new float[8])
                .addFloats(MatchingPursuitDictionary.OUTPUT_BIAS, new long[] {8}, new float[8])
                .write(dir.resolve("layer_1.safetensors"));
        assertThatThrownBy(() -> provider.create(DictionarySource.of(dir))).hasMessageContaining("'atoms'")
                .hasMessageContaining("[10, 7]").hasMessageContaining("expected [10, 8]");
    }
}
