package org.circuittracer.viewer;

import org.circuittracer.spi.ErrorCategory;
import org.circuittracer.spi.ErrorCode;

/** Failures particular to the viewer server; each maps to one HTTP status (see {@link #httpStatus()}). */
public enum ViewerErrorCode implements ErrorCode {
    /** No such graph, file, feature, job or route. */
    NOT_FOUND(404),
    /** A path that leaves the served directory (through {@code ..}, an absolute path or a symbolic link). */
    FORBIDDEN_PATH(403),
    /** The request was based on an older version of the annotations than the one stored. */
    CONFLICT(409),
    /** The request body is larger than the route accepts. */
    PAYLOAD_TOO_LARGE(413),
    /** A byte range outside the file, or a form the server does not serve. */
    RANGE_NOT_SATISFIABLE(416),
    /** Creating graphs and steering need a model, and the server was started without one. */
    NO_MODEL(501),
    /** The model is busy with another job. */
    BUSY(503),
    /** A file could not be saved: the directory is read-only or the disk is full (nothing was changed). */
    CANNOT_WRITE(507);

    private final int httpStatus;

    ViewerErrorCode(int httpStatus) {
        this.httpStatus = httpStatus;
    }

    public int httpStatus() {
        return httpStatus;
    }

    @Override
    public String code() {
        return name();
    }

    @Override
    public ErrorCategory category() {
        return httpStatus == 503 || httpStatus == 507 ? ErrorCategory.INSUFFICIENT_RESOURCES : ErrorCategory.USER_ERROR;
    }
}
