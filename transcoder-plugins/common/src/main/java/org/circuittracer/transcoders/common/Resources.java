package org.circuittracer.transcoders.common;

import java.util.List;

/** Releasing what a reader had opened when opening a dictionary fails halfway. */
public final class Resources {

    private Resources() {
    }

    /**
     * Closes every resource, keeping any failure to close as a suppressed exception of {@code failure}, and returns
     * {@code failure} for the caller to throw.
     */
    public static RuntimeException closeAfter(RuntimeException failure, List<? extends AutoCloseable> opened) {
        for (AutoCloseable resource : opened) {
            try {
                resource.close();
            } catch (Exception suppressed) {
                failure.addSuppressed(suppressed);
            }
        }
        return failure;
    }
}
