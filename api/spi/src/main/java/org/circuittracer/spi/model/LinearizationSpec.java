package org.circuittracer.spi.model;

import java.util.Map;
import java.util.Objects;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.site.SiteKind;

/**
 * How to linearise a model for attribution (docs/reference/algorithm.md §2.4-2.5): attention patterns and norm scales frozen,
 * every MLP cut except for the dictionary's skip maps.
 *
 * @param readSite    the dictionaries' input site kind ({@link SiteKind#RESID_MID}, {@link SiteKind#LN2_NORMALIZED}
 *                    or {@link SiteKind#MLP_IN}): where feature targets inject their encoder vectors
 * @param writeSite   the dictionaries' output site kind ({@link SiteKind#MLP_OUT_RAW} or {@link SiteKind#MLP_OUT}):
 *                    where feature and error sources write, and where gradients are read out
 * @param skipByLayer the skip map of each output layer that has one ({@code x_ℓ ↦ skip_ℓ(x_ℓ)}); copied
 */
public record LinearizationSpec(SiteKind readSite, SiteKind writeSite, Map<Integer, LinearMap> skipByLayer) {

    public LinearizationSpec {
        Objects.requireNonNull(readSite, "readSite");
        Objects.requireNonNull(writeSite, "writeSite");
        if (readSite != SiteKind.RESID_MID && readSite != SiteKind.LN2_NORMALIZED && readSite != SiteKind.MLP_IN) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "A dictionary cannot read "
                    + readSite.hookName() + "; input sites are hook_resid_mid, ln2.hook_normalized and mlp.hook_in.");
        }
        if (writeSite != SiteKind.MLP_OUT && writeSite != SiteKind.MLP_OUT_RAW) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "A dictionary cannot write "
                    + writeSite.hookName() + "; output sites are mlp.hook_out and hook_mlp_out.");
        }
        skipByLayer = Map.copyOf(skipByLayer);
    }
}
