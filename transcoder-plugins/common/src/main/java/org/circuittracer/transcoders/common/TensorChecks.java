package org.circuittracer.transcoders.common;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.TensorSource;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/** Checks that a weights file holds exactly the expected tensors with the expected shapes, naming what differs. */
public final class TensorChecks {

    private static final Set<DType> STORED_TYPES = Set.of(DType.F32, DType.BF16, DType.F16);

    private TensorChecks() {
    }

    /**
     * @param file     the weights
     * @param path     their file, for messages
     * @param required name → exact shape
     * @param optional name → exact shape, for tensors that may be absent
     * @param dims     what the shapes are made of, for messages (e.g. {@code d_in = 16, d_sae = 32})
     * @throws CircuitTracerException MALFORMED_FILE naming the file, the tensor, its shape and the expected one
     */
    public static void check(TensorSource file, Path path, Map<String, long[]> required, Map<String, long[]> optional,
                             String dims) {
        String where = path.toString();
        String expected = "it holds " + describe(required) + (optional.isEmpty() ? "" : " and optionally "
                + describe(optional)) + " (" + dims + ")";
        for (String name : required.keySet()) {
            if (!file.contains(name)) {
                throw malformed(where, "has no tensor " + name + "; " + expected);
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String name : file.names()) {
            long[] shape = required.containsKey(name) ? required.get(name) : optional.get(name);
            if (shape == null) {
                unexpected.add(name);
                continue;
            }
            var info = file.info(name);
            if (!STORED_TYPES.contains(info.dtype())) {
                throw malformed(where, "has " + name + " of type " + info.dtype() + "; weights are F32, BF16 or F16");
            }
            if (!Arrays.equals(info.shape(), shape)) {
                throw malformed(where, "has " + name + " " + info.shapeString() + "; expected "
                        + Arrays.toString(shape) + " (" + dims + ")");
            }
        }
        if (!unexpected.isEmpty()) {
            throw malformed(where, "has unexpected tensor" + (unexpected.size() == 1 ? " " : "s ") + unexpected + "; "
                    + expected);
        }
    }

    private static String describe(Map<String, long[]> tensors) {
        StringBuilder text = new StringBuilder();
        tensors.forEach((name, shape) -> text.append(text.length() == 0 ? "" : ", ").append(name).append(' ')
                .append(Arrays.toString(shape)));
        return text.toString();
    }

    private static CircuitTracerException malformed(String where, String problem) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, where + " " + problem + ".");
    }
}
