package org.circuittracer.spi;

import java.util.Objects;

/**
 * The one exception root of circuit-tracer. Its message says what was wrong and how to fix it, in words a
 * researcher can act on; the {@link #errorCode()} and its {@link ErrorCategory} let the CLI and the server choose an
 * exit code or HTTP status.
 */
public class CircuitTracerException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Not serialised (a plugin's code need not be); {@link #code} and {@link #codeCategory} are. */
    private final transient ErrorCode errorCode;
    private final String code;
    private final ErrorCategory codeCategory;

    public CircuitTracerException(ErrorCode errorCode, String message) {
        this(errorCode, message, null);
    }

    public CircuitTracerException(ErrorCode errorCode, String message, Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause);
        this.errorCode = Objects.requireNonNull(errorCode, "errorCode");
        this.code = errorCode.code();
        this.codeCategory = errorCode.category();
    }

    /**
     * The SPI's one way to refuse an invalid argument (a value out of range, arrays that do not fit together):
     * {@link StandardErrorCode#INVALID_ARGUMENT}, a user error.
     */
    public static CircuitTracerException invalidArgument(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }

    /**
     * The code. After a trip through Java serialisation (an exception thrown on a Spark executor and read by the
     * driver), the standard code of the same name, or a code that keeps the name and category.
     */
    public ErrorCode errorCode() {
        if (errorCode != null) {
            return errorCode;
        }
        for (StandardErrorCode standard : StandardErrorCode.values()) {
            if (standard.code().equals(code)) {
                return standard;
            }
        }
        String name = code;
        ErrorCategory category = codeCategory;
        return new ErrorCode() {
            @Override
            public String code() {
                return name;
            }

            @Override
            public ErrorCategory category() {
                return category;
            }
        };
    }

    public ErrorCategory category() {
        return errorCode().category();
    }

    /** {@code [CODE] message}, the form the CLI prints. */
    public String describe() {
        return "[" + errorCode().code() + "] " + getMessage();
    }
}
