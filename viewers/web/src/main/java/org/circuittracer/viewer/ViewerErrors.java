package org.circuittracer.viewer;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCode;
import org.circuittracer.spi.StandardErrorCode;

/** Shorthands for the viewer's exceptions and the mapping of error codes to HTTP statuses. */
public final class ViewerErrors {

    private ViewerErrors() {
    }

    public static CircuitTracerException notFound(String message) {
        return new CircuitTracerException(ViewerErrorCode.NOT_FOUND, message);
    }

    public static CircuitTracerException badRequest(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }

    public static CircuitTracerException forbiddenPath(String message) {
        return new CircuitTracerException(ViewerErrorCode.FORBIDDEN_PATH, message);
    }

    /** The HTTP status for an error: the viewer's own codes carry one, the rest follow their category. */
    public static int httpStatus(ErrorCode code) {
        if (code instanceof ViewerErrorCode v) {
            return v.httpStatus();
        }
        if (code == StandardErrorCode.FILE_NOT_FOUND) {
            return 404;
        }
        if (code == StandardErrorCode.CANCELLED) {
            return 409;
        }
        return switch (code.category()) {
            case USER_ERROR -> 400;
            case PLUGIN_ERROR, INTERNAL_ERROR -> 500;
            case INSUFFICIENT_RESOURCES -> 503;
        };
    }
}
