package org.circuittracer.spi.site;

import java.util.Arrays;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.stream.Collectors;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * One hook site: a {@link SiteKind} and, for per-layer kinds, the block index. Printed and parsed in the
 * TransformerLens spelling, e.g. {@code blocks.3.hook_resid_mid} or {@code ln_final.hook_scale}. Compares by value
 * (usable as a map key); sorted with global sites first, then by layer, then in forward order of the kinds.
 *
 * @param kind  what kind of site
 * @param layer the block index (≥ 0) for per-layer kinds; empty for global kinds
 */
public record HookSite(SiteKind kind, OptionalInt layer) implements Comparable<HookSite> {

    /**
     * @throws CircuitTracerException INVALID_ARGUMENT for a per-layer kind without a layer index ≥ 0, or a global kind
     *                                with one
     */
    public HookSite {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(layer, "layer");
        if (kind.perLayer() && (layer.isEmpty() || layer.getAsInt() < 0)) {
            throw invalid("Site " + kind.hookName() + " needs a layer index >= 0, got "
                    + (layer.isEmpty() ? "none" : layer.getAsInt()) + ".");
        }
        if (!kind.perLayer() && layer.isPresent()) {
            throw invalid("Site " + kind.hookName() + " is global and takes no layer index (got " + layer.getAsInt()
                    + ").");
        }
    }

    /** A per-layer site, e.g. {@code of(SiteKind.MLP_OUT, 3)}. */
    public static HookSite of(SiteKind kind, int layer) {
        return new HookSite(kind, OptionalInt.of(layer));
    }

    /** A global site, e.g. {@code global(SiteKind.UNEMBED_IN)}. */
    public static HookSite global(SiteKind kind) {
        return new HookSite(kind, OptionalInt.empty());
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
                        return of(kind.get(), Integer.parseInt(number));
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
        return layer.isPresent() ? "blocks." + layer.getAsInt() + "." + kind.hookName() : kind.hookName();
    }

    @Override
    public int compareTo(HookSite other) {
        // global sites (no layer) first
        int byLayer = Integer.compare(layer.orElse(-1), other.layer.orElse(-1));
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
