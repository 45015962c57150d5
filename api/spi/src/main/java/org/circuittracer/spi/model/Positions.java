package org.circuittracer.spi.model;

import java.util.Arrays;
import java.util.OptionalInt;
import java.util.stream.IntStream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Which sequence positions a hook or intervention touches. Python indexing semantics: negative indices count
 * from the end; slices are half-open with a step. An open slice ({@code stop} absent) also reaches positions
 * produced later during generation.
 */
@ProviderType
public sealed interface Positions {

    /** Every position, including generated ones. */
    static Positions all() {
        return new Slice(0, OptionalInt.empty(), 1);
    }

    /** The given positions (negative ones count from the end). */
    static Positions at(int... positions) {
        return new At(positions);
    }

    /** Positions {@code start, start+1, ..., stop-1}. */
    static Positions range(int start, int stop) {
        return new Slice(start, OptionalInt.of(stop), 1);
    }

    /** Positions from {@code start} on, including generated ones. */
    static Positions from(int start) {
        return new Slice(start, OptionalInt.empty(), 1);
    }

    /**
     * The concrete positions for a sequence of {@code length}, ascending for slices and in the given order for
     * {@link At}.
     *
     * @throws CircuitTracerException (INVALID_ARGUMENT) if an explicit position lies outside the sequence
     */
    int[] resolve(int length);

    /** Whether the selection continues into positions generated after the prompt. */
    boolean openEnded();

    /** Explicit positions. */
    record At(int[] positions) implements Positions {
        public At {
            if (positions.length == 0) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "No positions given.");
            }
            positions = positions.clone();
        }

        @Override
        public int[] positions() {
            return positions.clone();
        }

        @Override
        public int[] resolve(int length) {
            int[] out = new int[positions.length];
            for (int i = 0; i < positions.length; i++) {
                int p = positions[i] < 0 ? positions[i] + length : positions[i];
                if (p < 0 || p >= length) {
                    throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Position " + positions[i]
                            + " is outside the sequence of " + length + " tokens (valid: " + -length + " to "
                            + (length - 1) + ").");
                }
                out[i] = p;
            }
            return out;
        }

        @Override
        public boolean openEnded() {
            return false;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof At that && Arrays.equals(positions, that.positions);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(positions);
        }

        @Override
        public String toString() {
            return Arrays.toString(positions);
        }
    }

    /** A Python-style slice {@code start:stop:step}; positions past the end are simply absent. */
    record Slice(int start, OptionalInt stop, int step) implements Positions {
        public Slice {
            if (step <= 0) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT,
                        "A position slice needs a positive step, got " + step + ".");
            }
        }

        @Override
        public int[] resolve(int length) {
            int from = clamp(start, length);
            int to = stop.isPresent() ? clamp(stop.getAsInt(), length) : length;
            return IntStream.iterate(from, p -> p < to, p -> p + step).toArray();
        }

        @Override
        public boolean openEnded() {
            return stop.isEmpty();
        }

        private static int clamp(int index, int length) {
            int p = index < 0 ? index + length : index;
            return Math.max(0, Math.min(length, p));
        }

        @Override
        public String toString() {
            return start + ":" + (stop.isPresent() ? String.valueOf(stop.getAsInt()) : "") + (step == 1 ? "" : ":" + step);
        }
    }
}
