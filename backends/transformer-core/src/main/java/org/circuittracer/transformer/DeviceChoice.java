package org.circuittracer.transformer;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/** The device a {@code ModelSource} asks for, in the spellings every backend accepts. */
public enum DeviceChoice {
    /** {@code auto}: the backend's best device. */
    AUTO,
    /** {@code cpu}. */
    CPU,
    /** {@code cuda}, {@code cuda:N}, {@code gpu}, {@code gpu:N}. */
    CUDA;

    /**
     * The device a name asks for; whether the backend can run there is its own check (CUDA needs a build and a GPU).
     *
     * @param backend the backend's name, for messages
     * @param choices the spellings to suggest, e.g. {@code "auto or cpu"}
     * @throws CircuitTracerException INVALID_ARGUMENT for an unknown spelling
     */
    public static DeviceChoice parse(String device, String backend, String choices) {
        if (device.equals("auto")) {
            return AUTO;
        }
        if (device.equals("cpu")) {
            return CPU;
        }
        if (device.startsWith("gpu") || device.startsWith("cuda")) {
            return CUDA;
        }
        throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Unknown device '" + device + "' for the "
                + backend + " backend; use " + choices + ".");
    }
}
