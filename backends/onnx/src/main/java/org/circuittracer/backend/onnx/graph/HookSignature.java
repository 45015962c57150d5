package org.circuittracer.backend.onnx.graph;

import java.util.List;
import java.util.Objects;
import org.circuittracer.spi.site.HookSite;

/**
 * The shape of a hook list, without its tensors: which sites are hooked and, at each, the sequence of steps. Two
 * forward passes with the same signature run the same hooked graph with different inputs, so sessions are cached by
 * signature. Sites are in forward order.
 *
 * @param sites the hooked sites with their steps
 */
public record HookSignature(List<SiteSteps> sites) {

    /** No hooks: the model as exported. */
    public static final HookSignature NONE = new HookSignature(List.of());

    public HookSignature {
        sites = List.copyOf(sites);
    }

    /** What a hook does at its point in the chain of one site. */
    public enum Step {
        /** Expose the value as an extra graph output. */
        CAPTURE,
        /** {@code Where(mask, values, x)}: two extra inputs. */
        REPLACE,
        /** {@code x + delta}: one extra input ({@code delta} is zero at unselected positions). */
        ADD
    }

    /**
     * The steps at one site, in hook-list order.
     *
     * @param site  the site
     * @param steps its steps
     */
    public record SiteSteps(HookSite site, List<Step> steps) {
        public SiteSteps {
            Objects.requireNonNull(site, "site");
            steps = List.copyOf(steps);
        }
    }

    /** The graph input of a replace step's boolean mask. */
    public static String maskInput(HookSite site, int step) {
        return "hook." + site + "." + step + ".mask";
    }

    /** The graph input of a replace step's values. */
    public static String valuesInput(HookSite site, int step) {
        return "hook." + site + "." + step + ".values";
    }

    /** The graph input of an add step's delta. */
    public static String deltaInput(HookSite site, int step) {
        return "hook." + site + "." + step + ".delta";
    }
}
