package org.circuittracer.transformer;

/** Keeps DJL (engines and the tokenizers library) from reaching the network. */
public final class DjlOffline {

    private DjlOffline() {
    }

    /**
     * The natives ship in jars, so DJL never needs the network. Unless the user configured it explicitly, offline
     * mode stops DJL from trying to download a library and from its usage ping (which it skips when offline).
     */
    public static void prefer() {
        if (System.getenv("DJL_OFFLINE") == null && System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
    }
}
