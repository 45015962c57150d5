package org.circuittracer.spi.attribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.Set;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.junit.jupiter.api.Test;

/** Typed reads of an attributor's settings, with errors that name the attributor, the setting and what it takes. */
class AttributorOptionsTest {

    private final AttributorOptions options = new AttributorOptions("sketch",
            Map.of("rank", " 64 ", "tolerance", "1e-3", "exact", "TRUE", "mode", "fast"));

    @Test
    void givenSettingsAreReadAndAbsentOnesAreEmpty() {
        assertThat(options.integer("rank", 1, 1024)).isEqualTo(OptionalInt.of(64));
        assertThat(options.number("tolerance", 0, 1)).isEqualTo(OptionalDouble.of(1e-3));
        assertThat(options.flag("exact")).isEqualTo(Optional.of(true));
        assertThat(options.text("mode")).contains("fast");
        assertThat(options.integer("absent", 0, 1)).isEmpty();
        assertThat(options.number("absent", 0, 1)).isEmpty();
        assertThat(options.flag("absent")).isEmpty();
        assertThat(AttributorOptions.none("sketch").isEmpty()).isTrue();
        assertThat(options.isEmpty()).isFalse();
    }

    @Test
    void badValuesNameTheAttributorTheSettingAndTheRange() {
        expectInvalid(() -> options.integer("rank", 1, 32), "sketch", "rank", "\" 64 \"", "an integer from 1 to 32");
        expectInvalid(() -> options.integer("mode", 1, 32), "mode", "\"fast\"");
        expectInvalid(() -> options.number("mode", 0, 1), "a number from 0.0 to 1.0");
        expectInvalid(() -> new AttributorOptions("sketch", Map.of("t", "NaN")).number("t", 0, 1), "\"NaN\"");
        expectInvalid(() -> options.flag("mode"), "true or false");
    }

    @Test
    void unknownNamesAreAllRefusedInOneMessage() {
        options.requireOnly(Set.of("rank", "tolerance", "exact", "mode", "more"));
        expectInvalid(() -> options.requireOnly(Set.of("rank", "tolerance")), "sketch", "exact, mode",
                "it takes rank, tolerance");
        expectInvalid(() -> options.requireOnly(Set.of()), "it takes none");
        AttributorOptions.none("sketch").requireOnly(Set.of());
    }

    @Test
    void valuesAreCopiedAndTheNameIsRequired() {
        Map<String, String> values = new HashMap<>(Map.of("rank", "8"));
        AttributorOptions copied = new AttributorOptions("sketch", values);
        values.put("rank", "9");
        assertThat(copied.values()).containsEntry("rank", "8");
        expectInvalid(() -> new AttributorOptions(" ", Map.of()), "name");
        expectInvalid(() -> new AttributorOptions("sketch", null), "values");
    }

    private static void expectInvalid(Runnable call, String... fragments) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(CircuitTracerException.class,
                e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT)).message().contains(fragments);
    }
}
