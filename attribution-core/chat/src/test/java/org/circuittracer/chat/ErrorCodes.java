package org.circuittracer.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.Consumer;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/** {@code assertThatThrownBy(...).isInstanceOfSatisfying(CircuitTracerException.class, ErrorCodes.is(code))}. */
public final class ErrorCodes {

    private ErrorCodes() {
    }

    /** Checks that a {@link CircuitTracerException} carries {@code code}. */
    public static Consumer<CircuitTracerException> is(StandardErrorCode code) {
        return e -> assertThat(e.errorCode()).isEqualTo(code);
    }
}
