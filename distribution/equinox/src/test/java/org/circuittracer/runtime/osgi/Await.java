package org.circuittracer.runtime.osgi;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Polls a condition until it holds or a deadline passes: no fixed sleeps in the tests. */
final class Await {

    /** Generous: the condition usually holds within a poll interval or two, but a loaded machine can stall. */
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    private Await() {
    }

    /** Waits until {@code condition} holds and returns how long that took; fails after {@link #TIMEOUT}. */
    static Duration until(String what, BooleanSupplier condition) {
        long start = System.nanoTime();
        long deadline = start + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("Waited " + TIMEOUT.toSeconds() + " s in vain until " + what);
            }
            LockSupport.parkNanos(5_000_000);
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }
}
