package org.circuittracer.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class SharedFixturesTest {

    @Test
    void findsTheFixturesBesideTheCheckout() {
        var llama = SharedFixtures.resolve("tiny-models/llama");
        assertThat(Files.isRegularFile(llama.resolve("config.json"))).isTrue();
        assertThat(SharedFixtures.require().getFileName()).hasToString("fixtures");
    }
}
