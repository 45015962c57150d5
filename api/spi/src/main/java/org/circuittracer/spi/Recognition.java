package org.circuittracer.spi;

import java.util.Objects;

/**
 * How sure a provider is that it can open a directory, and why: the answer of {@code recognize(Path)} on backends
 * and dictionary formats. The runtime ranks the installed providers by {@link #confidence()} to choose one when the
 * user names none, and shows the reasons when it cannot choose (nothing recognises the directory, or several are
 * equally sure).
 *
 * @param confidence how sure
 * @param reason     one short clause a user can act on, e.g. {@code "config.json names LlamaForCausalLM and
 *                   model.safetensors is there"} or {@code "no config.yaml"}
 */
public record Recognition(Confidence confidence, String reason) {

    /** Ordered from "cannot open it" to "certainly mine". */
    public enum Confidence {
        /** Not this provider's: opening would fail. */
        NONE,
        /** Could be opened, but the files are generic enough that another provider may fit better. */
        POSSIBLE,
        /** The files this provider's format uses are there, not yet fully checked. */
        LIKELY,
        /** A marker only this provider's format has (a manifest, a format name in a config file). */
        CERTAIN
    }

    public Recognition {
        Objects.requireNonNull(confidence, "confidence");
        if (reason == null || reason.isBlank()) {
            throw CircuitTracerException.invalidArgument("a Recognition needs a reason a user can read");
        }
    }

    /** Not this provider's, because {@code reason}. */
    public static Recognition none(String reason) {
        return new Recognition(Confidence.NONE, reason);
    }

    public static Recognition possible(String reason) {
        return new Recognition(Confidence.POSSIBLE, reason);
    }

    public static Recognition likely(String reason) {
        return new Recognition(Confidence.LIKELY, reason);
    }

    public static Recognition certain(String reason) {
        return new Recognition(Confidence.CERTAIN, reason);
    }

    /** Whether the provider can open the directory at all (anything above {@link Confidence#NONE}). */
    public boolean matches() {
        return confidence != Confidence.NONE;
    }
}
