package org.circuittracer.backend.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/** Starts DJL's PyTorch engine on the CPU, never from the network. */
final class PyTorchRuntime {

    /** DJL's name of the engine. */
    static final String ENGINE = "PyTorch";

    private PyTorchRuntime() {
    }

    /**
     * A new manager on the CPU; the caller closes it.
     *
     * @throws CircuitTracerException PLUGIN_FAILURE if the engine cannot start
     */
    static NDManager newManager() {
        preferOffline();
        try {
            return NDManager.newBaseManager(Device.cpu(), ENGINE);
        } catch (RuntimeException | LinkageError e) {
            throw new CircuitTracerException(StandardErrorCode.PLUGIN_FAILURE, "DJL's PyTorch engine could not start: "
                    + e + ". Its native library comes from the jar ai.djl.pytorch:pytorch-native-cpu, which must be on "
                    + "the class path (nothing is downloaded at run time).", e);
        }
    }

    /**
     * The natives ship in jars, so DJL never needs the network. Unless the user configured it explicitly, offline
     * mode stops DJL from trying to download a library and from its usage ping (which it skips when offline).
     */
    static void preferOffline() {
        if (System.getenv("DJL_OFFLINE") == null && System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
    }
}
