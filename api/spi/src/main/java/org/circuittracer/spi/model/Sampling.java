package org.circuittracer.spi.model;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * How to choose each generated token. {@code temperature == 0} means greedy (arg-max); otherwise logits are divided by
 * the temperature, restricted to the {@code topK} most likely tokens (0 = no limit) and to the smallest set whose
 * probability reaches {@code topP} (1 = no limit), and sampled with a generator seeded by {@code seed}.
 */
public record Sampling(double temperature, int topK, double topP, long seed) {

    public Sampling {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw invalid("temperature must be a finite number ≥ 0 (0 = greedy), got " + temperature);
        }
        if (topK < 0) {
            throw invalid("top-k must be ≥ 0 (0 = no limit), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw invalid("top-p must be in (0, 1], got " + topP);
        }
    }

    /** Always the most likely token. */
    public static Sampling greedy() {
        return new Sampling(0, 0, 1, 0);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Invalid sampling option: " + message + ".");
    }
}
