package org.circuittracer.spi;

/**
 * Who can fix a failure. The command line maps categories to exit codes and the viewer server to HTTP statuses.
 */
public enum ErrorCategory {
    /** Bad input, arguments or files: the user can fix it (CLI exit 2, HTTP 400/404/409). */
    USER_ERROR,
    /** A plugin misbehaved or is missing: fix or install the plugin (CLI exit 3, HTTP 500). */
    PLUGIN_ERROR,
    /** A bug in circuit-tracer itself: please report it (CLI exit 4, HTTP 500). */
    INTERNAL_ERROR,
    /** Not enough memory, disk or time: use a smaller input or a bigger machine (CLI exit 5, HTTP 503). */
    INSUFFICIENT_RESOURCES
}
