package org.circuittracer.transformer.decoder;

import ai.djl.ndarray.NDArray;
import org.circuittracer.spi.site.HookSite;

/** What the forward pass calls at every hook site, in forward order. */
@FunctionalInterface
public interface SiteHooks {

    /** No hooks: every value passes unchanged. */
    SiteHooks NONE = (site, value) -> value;

    /**
     * Called with the value computed at {@code site}; returns the value the pass continues with (the same array when
     * nothing changes it). The returned array must have the same shape.
     */
    NDArray at(HookSite site, NDArray value);
}
