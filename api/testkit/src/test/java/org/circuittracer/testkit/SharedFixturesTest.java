package org.circuittracer.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;
import org.opentest4j.TestAbortedException;

class SharedFixturesTest {

    @TempDir
    Path tmp;

    @Test
    void findsTheFixturesBesideTheCheckout() {
        var llama = SharedFixtures.resolve("tiny-models/llama");
        assertThat(Files.isRegularFile(llama.resolve("config.json"))).isTrue();
        assertThat(SharedFixtures.require().getFileName()).hasToString("fixtures");
    }

    @ParameterizedTest
    @ValueSource(strings = {"true", "TRUE", "True", " true "})
    void ciTrueMakesMissingFixturesFail(String ci) {
        assertThat(SharedFixtures.failsWhenMissing(ci)).isTrue();
        Throwable t = catchThrowable(() -> SharedFixtures.missing("fixture x not found at /y", ci));
        assertThat(t).isInstanceOf(AssertionError.class).isNotInstanceOf(TestAbortedException.class)
                .hasMessageContaining("fixture x not found at /y").hasMessageContaining("CI=");
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"false", "0", "1", "yes", "truthy"})
    void elsewhereMissingFixturesSkip(String ci) {
        assertThat(SharedFixtures.failsWhenMissing(ci)).isFalse();
        Throwable t = catchThrowable(() -> SharedFixtures.missing("fixture x not found at /y", ci));
        assertThat(t).isInstanceOf(TestAbortedException.class).hasMessageContaining("fixture x not found at /y");
    }

    @Test
    void aMissingDirectorySaysWhereItLookedAndHowToPointElsewhere() {
        Path nowhere = tmp.resolve("no-such-dir");
        SharedFixtures.Location byVariable = SharedFixtures.locate(null, nowhere.toString(), tmp);
        assertThat(byVariable.directory()).isEmpty();
        Throwable failed = catchThrowable(() -> SharedFixtures.require(byVariable, "true"));
        assertThat(failed).isInstanceOf(AssertionError.class)
                .hasMessageContaining("Shared test fixtures not found")
                .hasMessageContaining("CIRCUIT_TRACER_FIXTURES = " + nowhere + " (not a directory)")
                .hasMessageContaining("Set CIRCUIT_TRACER_FIXTURES=/path/to/fixtures");
        assertThat(catchThrowable(() -> SharedFixtures.require(byVariable, null)))
                .isInstanceOf(TestAbortedException.class).hasMessageContaining("Shared test fixtures not found");

        // no override and nothing above the working directory: names the search
        SharedFixtures.Location searched = SharedFixtures.locate(null, null, tmp);
        assertThat(searched.directory()).isEmpty();
        assertThat(catchThrowable(() -> SharedFixtures.resolve(searched, "tiny-models/llama", "TRUE")))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("shared/fixtures in " + tmp.toAbsolutePath())
                .hasMessageContaining("CIRCUIT_TRACER_FIXTURES");
    }

    @Test
    void theSystemPropertyWinsOverTheVariable() throws IOException {
        Path fixtures = Files.createDirectories(tmp.resolve("elsewhere"));
        SharedFixtures.Location both = SharedFixtures.locate(fixtures.toString(), tmp.resolve("nope").toString(), tmp);
        assertThat(both.directory()).contains(fixtures);
        assertThat(SharedFixtures.require(both, "true")).isEqualTo(fixtures);
    }

    @Test
    void searchesUpwardsForSharedFixtures() throws IOException {
        Path fixtures = Files.createDirectories(tmp.resolve("shared/fixtures"));
        Path module = Files.createDirectories(tmp.resolve("main/viewers/web"));
        assertThat(SharedFixtures.locate(null, null, module).directory()).contains(fixtures);
        assertThat(SharedFixtures.locate(null, "", module).directory()).as("a blank override searches")
                .contains(fixtures);
    }

    @Test
    void aMissingFileNamesItsPath() throws IOException {
        Path fixtures = Files.createDirectories(tmp.resolve("fixtures"));
        Files.createDirectories(fixtures.resolve("tiny-models/llama"));
        SharedFixtures.Location location = SharedFixtures.locate(fixtures.toString(), null, tmp);
        assertThat(SharedFixtures.resolve(location, "tiny-models/llama", "true"))
                .isEqualTo(fixtures.resolve("tiny-models/llama"));
        assertThat(catchThrowable(() -> SharedFixtures.resolve(location, "tiny-models/gpt9", "true")))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("Fixture tiny-models/gpt9 not found: " + fixtures.resolve("tiny-models/gpt9")
                        + " does not exist")
                .hasMessageContaining("system property circuittracer.fixtures = " + fixtures)
                .hasMessageContaining("CIRCUIT_TRACER_FIXTURES");
        assertThat(catchThrowable(() -> SharedFixtures.resolve(location, "tiny-models/gpt9", "false")))
                .isInstanceOf(TestAbortedException.class).hasMessageContaining("tiny-models/gpt9");
    }
}
