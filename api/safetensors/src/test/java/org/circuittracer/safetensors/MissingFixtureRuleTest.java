package org.circuittracer.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;
import org.opentest4j.TestAbortedException;

/** The CI rule of {@link TestSupport#missingFixture} (the same as testkit's SharedFixtures): fail under CI, else skip. */
class MissingFixtureRuleTest {

    @ParameterizedTest
    @ValueSource(strings = {"true", "TRUE", "True", " true "})
    void failsUnderCi(String ci) {
        assertThat(catchThrowable(() -> TestSupport.missingFixture("fixture x not found at /y", ci)))
                .isInstanceOf(AssertionError.class).isNotInstanceOf(TestAbortedException.class)
                .hasMessageContaining("fixture x not found at /y");
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"false", "0", "1", "yes"})
    void skipsElsewhere(String ci) {
        assertThat(catchThrowable(() -> TestSupport.missingFixture("fixture x not found at /y", ci)))
                .isInstanceOf(TestAbortedException.class).hasMessageContaining("fixture x not found at /y");
    }
}
