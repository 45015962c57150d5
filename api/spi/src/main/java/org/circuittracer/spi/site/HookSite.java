package org.circuittracer.spi.site;

import java.util.Arrays;
import java.util.Objects;
import java.util.stream.Collectors;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * One hook site: a {@link SiteKind} and, for per-layer kinds, the block index. Printed and parsed in the
 * TransformerLens spelling, e.g. {@code blocks.3.hook_resid_mid} or {@code ln_final.hook_scale}.
 *
 * @param kind  what kind of site
 * @param layer the block index (≥ 0) for per-layer kinds; {@link #NO_LAYER} for global kinds
 */
public record HookSite(SiteKind kind, int layer) implements Comparable<HookSite> {

    /** The layer value of global sites. */
    public static final int NO_LAYER = -1;

    public HookSite {
        Objects.requireNonNull(kind, "kind");
        if (kind.perLayer() && layer < 0) {
            throw invalid("Site " + kind.hookName() + " needs a layer index >= 0, got " + layer + ".");
        }
        if (!kind.perLayer() && layer != NO_LAYER) {
            throw invalid("Site " + kind.hookName() + " is global and takes no layer index (got " + layer + ").");
        }
    }

    /** A per-layer site, e.g. {@code of(SiteKind.MLP_OUT, 3)}. */
    public static HookSite of(SiteKind kind, int layer) {
        return new HookSite(kind, layer);
    }

    /** A global site, e.g. {@code global(SiteKind.UNEMBED_IN)}. */
    public static HookSite global(SiteKind kind) {
        return new HookSite(kind, NO_LAYER);
    }

    /**
     * Parses a TransformerLens-style name: {@code blocks.L.<hook>} for per-layer sites, {@code <hook>} for global
     * ones.
     *
     * @throws CircuitTracerException (INVALID_ARGUMENT) naming the valid spellings if the name is not a site
     */
    public static HookSite parse(String name) {
        Objects.requireNonNull(name, "name");
        if (name.startsWith("blocks.")) {
            int dot = name.indexOf('.', "blocks.".length());
            if (dot > 0) {
                String number = name.substring("blocks.".length(), dot);
                if (!number.isEmpty() && number.length() <= 6 && number.chars().allMatch(Character::isDigit)) {
                    var kind = SiteKind.fromHookName(name.substring(dot + 1));
                    if (kind.isPresent() && kind.get().perLayer()) {
                        return new HookSite(kind.get(), Integer.parseInt(number));
                    }
                }
            }
        } else {
            var kind = SiteKind.fromHookName(name);
            if (kind.isPresent() && !kind.get().perLayer()) {
                return global(kind.get());
            }
        }
        throw invalid("'" + name + "' is not a hook site. Per-layer sites are spelled blocks.<layer>.<hook> with <hook> one of "
                + names(true) + "; global sites are " + names(false) + ".");
    }

    /** The canonical name, e.g. {@code blocks.3.hook_mlp_out}. */
    @Override
    public String toString() {
        return kind.perLayer() ? "blocks." + layer + "." + kind.hookName() : kind.hookName();
    }

    @Override
    public int compareTo(HookSite other) {
        int byLayer = Integer.compare(layer, other.layer);
        return byLayer != 0 ? byLayer : kind.compareTo(other.kind);
    }

    private static String names(boolean perLayer) {
        return Arrays.stream(SiteKind.values()).filter(k -> k.perLayer() == perLayer)
                .map(SiteKind::hookName).collect(Collectors.joining(", "));
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }
}
