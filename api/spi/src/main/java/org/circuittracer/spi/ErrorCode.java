package org.circuittracer.spi;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A stable identifier of a kind of failure, with its {@link ErrorCategory}.
 *
 * <p>The core's codes are in {@link StandardErrorCode}; a plugin may define its own enum implementing this
 * interface. Codes are upper-case words joined by underscores and never change meaning once published.
 */
@ConsumerType
public interface ErrorCode {

    /** The code, e.g. {@code MISSING_CAPABILITY}. */
    String code();

    /** Who can fix the failure. */
    ErrorCategory category();
}
