package org.circuittracer.spi.model;

import ai.djl.ndarray.NDArray;
import java.util.Map;
import java.util.Objects;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.site.HookSite;

/**
 * What a forward pass returns. The arrays belong to the {@code NDManager} passed to
 * {@link TransformerModel#forward}.
 *
 * @param logits   {@code [T, V]} output logits (after any final soft-cap)
 * @param captured the values of the {@link Hook.Capture} sites, shaped as their {@link org.circuittracer.spi.site.SiteKind}
 *                 says; captured after any replace/add hooks listed before the capture at the same site
 */
public record ForwardResult(NDArray logits, Map<HookSite, NDArray> captured) {

    public ForwardResult {
        Objects.requireNonNull(logits, "logits");
        captured = Map.copyOf(captured);
    }

    /** The captured value at {@code site}; a clear error if it was not captured. */
    public NDArray capturedAt(HookSite site) {
        NDArray value = captured.get(site);
        if (value == null) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Site " + site
                    + " was not captured in this forward pass; add a Hook.Capture for it.");
        }
        return value;
    }
}
