package org.circuittracer.spi;

import java.util.Objects;

/**
 * The one exception root of circuit-tracer. Its message says what was wrong and how to fix it, in words a
 * researcher can act on; the {@link #errorCode()} and its {@link ErrorCategory} let the CLI and the server choose an
 * exit code or HTTP status.
 */
public class CircuitTracerException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient ErrorCode errorCode;

    public CircuitTracerException(ErrorCode errorCode, String message) {
        this(errorCode, message, null);
    }

    public CircuitTracerException(ErrorCode errorCode, String message, Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause);
        this.errorCode = Objects.requireNonNull(errorCode, "errorCode");
    }

    /**
     * The SPI's one way to refuse an invalid argument (a value out of range, arrays that do not fit together):
     * {@link StandardErrorCode#INVALID_ARGUMENT}, a user error.
     */
    public static CircuitTracerException invalidArgument(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }

    public ErrorCode errorCode() {
        return errorCode;
    }

    public ErrorCategory category() {
        return errorCode.category();
    }

    /** {@code [CODE] message}, the form the CLI prints. */
    public String describe() {
        return "[" + errorCode.code() + "] " + getMessage();
    }
}
