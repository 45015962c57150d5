package org.circuittracer.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.model.Precision;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * How a model and its transcoders are opened once their directories are known: backend, dictionary format, compute
 * precision, plugin directory and the k of TopK sets. Part of {@link ModelOptions} (whose {@code --model} defaults to
 * the demo) and used alone by {@code features} (whose {@code --model} and {@code --transcoders} are required).
 */
final class LoadOptions {

    @Option(names = "--backend", paramLabel = "NAME", order = 3,
            description = "Backend provider, e.g. djl or onnx (default: the one that can open --model; for a "
                    + "directory several can open, the one whose weight files it holds: model.onnx for onnx, "
                    + "*.safetensors for djl).")
    String backend;

    @Option(names = "--dictionary-format", paramLabel = "NAME", order = 4,
            description = "Dictionary format provider (default: the one format that recognises the transcoders).")
    String dictionaryFormat;

    @Option(names = "--dtype", defaultValue = "float32", paramLabel = "float32|float16|bfloat16", order = 5,
            description = "Compute precision (default: ${DEFAULT-VALUE}). bfloat16 is computed in float32: the "
                    + "PyTorch engine of DJL has no bfloat16 tensors.")
    String dtype;

    @Option(names = "--plugins", paramLabel = "DIR", order = 6,
            description = "Directory of plugin jars (default: plugins/ of the installation, if present).")
    Path plugins;

    @Option(names = "--topk", paramLabel = "K", order = 6,
            description = "k of TopK transcoders whose files don't record it (circuit-tracer knows some sets' k "
                    + "from their repo name, e.g. 128 for facebook/crv-8b-instruct-transcoders; the reference "
                    + "formats only). Not --top-k.")
    Integer topk;

    /** Read encoders per call instead of keeping them (set by {@code bench --synthetic} for bf16 sets; no flag). */
    boolean lazyEncoder;

    /** The dictionary to open: {@code directory} with the dictionary options these flags give. */
    DictionarySource dictionarySource(Path directory) {
        DictionarySource source = dictionarySource(directory, topk);
        return lazyEncoder ? new DictionarySource(source.directory(), true, source.lazyDecoder(), source.options())
                : source;
    }

    /** {@code directory} with option {@code topk=K} when {@code --topk} was given (the reference formats read it). */
    static DictionarySource dictionarySource(Path directory, Integer topk) {
        if (topk == null) {
            return DictionarySource.of(directory);
        }
        if (topk < 1) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "--topk must be at least 1, got "
                    + topk + ".");
        }
        return new DictionarySource(directory, false, true, Map.of("topk", Integer.toString(topk)));
    }

    /**
     * Checks what can be checked before anything is found or loaded, and returns the precision.
     *
     * @throws CommandLine.ParameterException for {@code --topk} below 1 or a bad {@code --dtype} (exit code 2)
     */
    Precision check(CommandLine.Model.CommandSpec spec) {
        if (topk != null && topk < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--topk must be at least 1, got " + topk
                    + ".");
        }
        return precision(spec);
    }

    Precision precision(CommandLine.Model.CommandSpec spec) {
        return switch (dtype.toLowerCase(Locale.ROOT)) {
            case "float32", "fp32", "bfloat16", "bf16" -> Precision.FLOAT32;
            case "float16", "fp16", "half" -> Precision.FLOAT16;
            default -> throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option "
                    + "'--dtype': '" + dtype + "'; give float32, float16 or bfloat16.");
        };
    }

    Path pluginDirectory() {
        return plugins != null ? plugins : Launch.defaultPluginDirectory();
    }
}
