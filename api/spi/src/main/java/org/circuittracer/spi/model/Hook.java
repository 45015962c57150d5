package org.circuittracer.spi.model;

import ai.djl.ndarray.NDArray;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.circuittracer.spi.site.HookSite;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Something to do at a hook site during a forward pass (or at every step of generation). Hooks are values, so a
 * backend that cannot run Java code inside its graph (ONNX Runtime) can still realise capture, replace and add.
 * Hooks at the same site apply in list order.
 *
 * <p>Tensors given to hooks are owned by the caller and must stay open for the duration of the call they are
 * passed to.
 */
@ProviderType
public sealed interface Hook {

    /** Where the hook acts. */
    HookSite site();

    /** Read the site's value; it is returned in {@link ForwardResult#captured()}. */
    record Capture(HookSite site) implements Hook {
        public Capture {
            Objects.requireNonNull(site, "site");
        }
    }

    /**
     * Replace the value at the selected positions. {@code values} has the site's shape restricted to those
     * positions along the position axis (e.g. {@code [n, d]} for a residual site, {@code [H, n, T]} for an attention
     * pattern where {@code n} is the number of selected query positions), or a shape broadcastable to it.
     */
    record Replace(HookSite site, Positions positions, NDArray values) implements Hook {
        public Replace {
            Objects.requireNonNull(site, "site");
            Objects.requireNonNull(positions, "positions");
            Objects.requireNonNull(values, "values");
        }
    }

    /** Add {@code delta} at the selected positions; shapes as for {@link Replace}. */
    record Add(HookSite site, Positions positions, NDArray delta) implements Hook {
        public Add {
            Objects.requireNonNull(site, "site");
            Objects.requireNonNull(positions, "positions");
            Objects.requireNonNull(delta, "delta");
        }
    }

    /**
     * Replace the whole value by {@code function(value)}, which must return the same shape. Needs
     * {@link BackendCapability#FUNCTION_HOOKS}.
     */
    record Transform(HookSite site, UnaryOperator<NDArray> function) implements Hook {
        public Transform {
            Objects.requireNonNull(site, "site");
            Objects.requireNonNull(function, "function");
        }
    }
}
