package org.circuittracer.transcoders.reference;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.TensorInfo;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/** File and tensor names of the reference layouts (docs/reference/algorithm.md §8.3), and the checks every layer file passes. */
final class LayerFiles {

    static final String SUFFIX = ".safetensors";
    /** Per-layer transcoders: {@code layer_{i}.safetensors}. */
    static final String PER_LAYER_PREFIX = "layer_";
    /** Cross-layer transcoder: {@code W_enc_{i}.safetensors} and {@code W_dec_{i}.safetensors}. */
    static final String ENCODER_PREFIX = "W_enc_";
    static final String DECODER_PREFIX = "W_dec_";

    static final String W_ENC = "W_enc";
    static final String B_ENC = "b_enc";
    static final String W_DEC = "W_dec";
    static final String B_DEC = "b_dec";
    static final String W_SKIP = "W_skip";
    /** The per-layer file's JumpReLU thresholds. */
    static final String PER_LAYER_THRESHOLD = "activation_function.threshold";
    /** The cross-layer file's JumpReLU thresholds, {@code threshold_{i}}. */
    static final String THRESHOLD = "threshold";
    /** The per-layer file's TopK size: the scalar integer tensor circuit-tracer's {@code to_safetensors} writes. */
    static final String K = "k";

    /** Floating-point element types the formats store; everything is widened to float32 on reading. */
    private static final Set<DType> STORED_TYPES = Set.of(DType.F32, DType.BF16, DType.F16);
    private static final System.Logger LOG = System.getLogger(LayerFiles.class.getName());

    private LayerFiles() {
    }

    static String numbered(String prefix, int layer) {
        return prefix + layer + SUFFIX;
    }

    /** {@code W_enc_3}-style tensor names of the cross-layer files. */
    static String key(String base, int layer) {
        return base + "_" + layer;
    }

    /** The files {@code prefix{0 … n−1}.safetensors} of {@code directory}, which must be contiguous from 0. */
    static List<Path> numberedFiles(Path directory, String prefix) {
        Pattern name = Pattern.compile(Pattern.quote(prefix) + "(0|[1-9][0-9]{0,5})" + Pattern.quote(SUFFIX));
        TreeSet<Integer> layers = new TreeSet<>();
        try (Stream<Path> entries = Files.list(directory)) {
            entries.forEach(p -> {
                Matcher m = name.matcher(p.getFileName().toString());
                if (m.matches()) {
                    layers.add(Integer.parseInt(m.group(1)));
                }
            });
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot list " + directory + ": " + e, e);
        }
        if (layers.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, directory + " has no "
                    + numbered(prefix, 0) + "; the layers' files are named " + prefix + "{layer}" + SUFFIX + ".");
        }
        if (layers.last() != layers.size() - 1) {
            String missing = IntStream.rangeClosed(0, layers.last()).filter(l -> !layers.contains(l))
                    .mapToObj(l -> numbered(prefix, l)).collect(Collectors.joining(", "));
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, directory + ": layers must be "
                    + "contiguous from 0, but " + missing + " " + (missing.contains(",") ? "are" : "is")
                    + " missing (found layers " + layers + ").");
        }
        return layers.stream().map(l -> directory.resolve(numbered(prefix, l))).toList();
    }

    /** Tensor name → documented shape, in the given order: {@code shapes("W_enc", "[F, d]", "b_enc", "[F]")}. */
    static Map<String, String> shapes(String... nameShapePairs) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < nameShapePairs.length; i += 2) {
            map.put(nameShapePairs[i], nameShapePairs[i + 1]);
        }
        return map;
    }

    /** Opens {@code file} and registers it in {@code opened}, so that a later failure can close it. */
    static SafetensorsFile open(Path file, List<AutoCloseable> opened) {
        SafetensorsFile open = SafetensorsFile.open(file);
        opened.add(open);
        return open;
    }

    /**
     * Checks that {@code file} holds every required tensor, no tensor beyond the optional ones, floating-point data
     * and the documented ranks.
     *
     * @param required tensor name → documented shape, e.g. {@code "W_enc" → "[F, d]"}
     * @param optional the same for tensors that may be absent
     */
    static void checkTensors(SafetensorsFile file, Map<String, String> required, Map<String, String> optional) {
        checkTensors(file, required, optional, Set.of(), false);
    }

    /**
     * Checks that {@code file} holds every required tensor, floating-point data and the documented ranks; tensors of
     * EleutherAI's clt-training are UNSUPPORTED_ARCHITECTURE.
     *
     * @param required          tensor name → documented shape, e.g. {@code "W_enc" → "[F, d]"}
     * @param optional          the same for tensors that may be absent
     * @param checkedElsewhere  names of optional tensors the caller checks itself (e.g. the scalar {@code k})
     * @param ignoreUnexpected  whether other tensors are ignored (with a DEBUG note, as the reference's cross-layer
     *                          loader reads only the tensors it names) instead of MALFORMED_FILE
     */
    static void checkTensors(SafetensorsFile file, Map<String, String> required, Map<String, String> optional,
                             Set<String> checkedElsewhere, boolean ignoreUnexpected) {
        List<String> foreign = ForeignCheckpoints.names(file);
        if (!foreign.isEmpty()) {
            throw ForeignCheckpoints.unsupported(file.path() + " holds tensors of an EleutherAI clt-training "
                    + "(sparsify fork) checkpoint (" + String.join(", ", foreign) + ")");
        }
        List<String> optionalNames = new ArrayList<>(optional.keySet());
        optionalNames.addAll(new TreeSet<>(checkedElsewhere));
        String expected = "it holds " + String.join(", ", required.keySet())
                + (optionalNames.isEmpty() ? "" : " and optionally " + String.join(", ", optionalNames));
        for (String name : required.keySet()) {
            if (!file.contains(name)) {
                throw malformed(file, "tensor " + name + " is missing; " + expected + ".");
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (TensorInfo tensor : file.tensors()) {
            if (checkedElsewhere.contains(tensor.name())) {
                continue;
            }
            String shape = required.getOrDefault(tensor.name(), optional.get(tensor.name()));
            if (shape == null) {
                unexpected.add(tensor.name());
                continue;
            }
            if (!STORED_TYPES.contains(tensor.dtype())) {
                throw malformed(file, tensor.name() + " is " + tensor.dtype() + "; transcoder weights are F32, BF16 or "
                        + "F16.");
            }
            int rank = shape.split(",").length;
            if (tensor.rank() != rank) {
                throw malformed(file, tensor.name() + " has shape " + tensor.shapeString() + "; expected " + shape + ".");
            }
        }
        if (!unexpected.isEmpty()) {
            if (ignoreUnexpected) {
                LOG.log(System.Logger.Level.DEBUG, () -> file.path() + ": ignoring tensor"
                        + (unexpected.size() == 1 ? " " : "s ") + unexpected + ", which circuit-tracer does not read");
                return;
            }
            throw malformed(file, "unexpected tensor" + (unexpected.size() == 1 ? " " : "s ") + unexpected + "; "
                    + expected + ".");
        }
    }

    /**
     * The scalar TopK size {@code name} of {@code file}: an integer tensor with one element ({@code torch.tensor(k)}
     * is an I64 of shape {@code []}), at least 1.
     */
    static int scalarK(SafetensorsFile file, String name) {
        TensorInfo info = file.info(name);
        if (!info.dtype().isInteger() || info.numel() != 1 || info.rank() > 1) {
            throw malformed(file, name + " is " + info.dtype() + " " + info.shapeString() + "; the TopK size k is a "
                    + "scalar integer (circuit-tracer writes torch.tensor(k), an I64 of shape []).");
        }
        long k = file.readLongs(name)[0];
        if (k < 1 || k > Integer.MAX_VALUE) {
            throw malformed(file, name + " is " + k + "; the TopK size k is a whole number >= 1.");
        }
        return (int) k;
    }

    static CircuitTracerException malformed(SafetensorsFile file, String problem) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file.path() + ": " + problem);
    }
}
