package org.circuittracer.backend.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.transformer.DjlOffline;

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
        DjlOffline.prefer();
        try {
            return NDManager.newBaseManager(Device.cpu(), ENGINE);
        } catch (RuntimeException | LinkageError e) {
            throw new CircuitTracerException(StandardErrorCode.PLUGIN_FAILURE, "DJL's PyTorch engine could not start: "
                    + e + ". Its native library comes from the jar ai.djl.pytorch:pytorch-native-cpu, which must be on "
                    + "the class path (nothing is downloaded at run time).", e);
        }
    }
}
