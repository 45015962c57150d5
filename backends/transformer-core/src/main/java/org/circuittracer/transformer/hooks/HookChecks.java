package org.circuittracer.transformer.hooks;

import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.IntStream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.Positions;
import org.circuittracer.spi.site.HookSite;

/**
 * The checks of a hook before a pass runs, shared by the backends so that they accept and refuse the same hooks with
 * the same messages.
 */
public final class HookChecks {

    private HookChecks() {
    }

    /** @throws CircuitTracerException INVALID_ARGUMENT naming the model's layers or site kinds */
    public static void requireSite(HookSite site, List<HookSite> sites, String model) {
        if (sites.contains(site)) {
            return;
        }
        if (site.kind().perLayer()) {
            int layers = sites.stream().map(HookSite::layer).flatMapToInt(OptionalInt::stream).max().orElse(-1) + 1;
            if (site.layer().getAsInt() >= layers) {
                throw invalid("Hook site " + site + " does not exist: " + model + " has layers 0 to " + (layers - 1)
                        + ".");
            }
        }
        // listed: the global sites and layer 0's, which stand for every layer's
        throw invalid("Hook site " + site + " does not exist in " + model + ". Its sites are "
                + sites.stream().filter(s -> s.layer().orElse(0) == 0).map(s -> s.kind().perLayer()
                        ? "blocks.L." + s.kind().hookName() : s.toString()).distinct().toList() + ".");
    }

    /**
     * The selected rows of the pass: positions resolved against the sequence length after the pass (so negative
     * indices count from the newest position), kept where the pass computes them and made relative to its first row.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT for positions outside the sequence or repeated
     */
    public static int[] positions(Positions positions, SiteShapes shapes, Hook hook) {
        int[] absolute;
        try {
            absolute = positions.resolve(shapes.sequenceLength());
        } catch (CircuitTracerException e) {
            throw invalid("The " + describe(hook) + ": " + e.getMessage());
        }
        if (IntStream.of(absolute).distinct().count() != absolute.length) {
            throw invalid("The " + describe(hook) + " selects a position twice (" + Arrays.toString(absolute)
                    + "); give each position once.");
        }
        int first = shapes.firstPosition();
        return IntStream.of(absolute).filter(p -> p >= first).map(p -> p - first).toArray();
    }

    /**
     * Checks that a hook's tensor broadcasts to the selected part of its site.
     *
     * @param target the site's shape at the selected positions
     * @param all    whether every position of the pass is selected
     * @param what   the tensor's name in the hook ({@code values}, {@code delta})
     * @throws CircuitTracerException INVALID_ARGUMENT when it does not
     */
    public static void requireBroadcasts(long[] given, long[] target, boolean all, String what, Hook hook) {
        boolean fits = given.length <= target.length;
        for (int i = 1; fits && i <= given.length; i++) {
            long g = given[given.length - i];
            fits = g == 1 || g == target[target.length - i];
        }
        if (!fits) {
            String shape = hook.site().kind().shape();
            throw invalid("The " + describe(hook) + " has " + what + " of shape " + Arrays.toString(given)
                    + ", which is not " + Arrays.toString(target) + ", the site's shape " + shape + (all ? ""
                    : " at the " + target[SiteShapes.positionAxis(hook.site().kind())] + " selected positions")
                    + ", nor broadcasts to it.");
        }
    }

    /** {@code Hook.Replace at blocks.0.hook_resid_pre}, as messages name a hook. */
    public static String describe(Hook hook) {
        return "Hook." + hook.getClass().getSimpleName() + " at " + hook.site();
    }

    static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }
}
