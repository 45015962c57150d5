package org.circuittracer.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import org.circuittracer.demo.DemoModel;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.Precision;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The options of every command that opens a model and a transcoder set. Without {@code --model} the embedded demo
 * model is used, with its per-layer transcoders unless {@code --transcoders} says otherwise.
 */
final class ModelOptions {

    /** {@code --transcoders} values that name the demo's transcoder sets. */
    static final String DEMO_PLT = "demo-plt";
    static final String DEMO_CLT = "demo-clt";

    @Option(names = "--model", paramLabel = "DIR", order = 1,
            description = "Model directory in Hugging Face layout (config.json, *.safetensors, tokenizer.json), or an "
                    + "ONNX export of one (model.onnx; see export-onnx). Default: the embedded demo model.")
    Path model;

    @Option(names = {"-t", "--transcoders", "--transcoder-set"}, paramLabel = "DIR|demo-plt|demo-clt", order = 2,
            description = "Transcoder (dictionary) directory, or the demo's per-layer (demo-plt) or cross-layer "
                    + "(demo-clt) transcoders. Default with the demo model: demo-plt; required with --model.")
    String transcoders;

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

    /** What the options resolve to. */
    record Resolved(Path model, Path transcoders, boolean demo, Precision precision, String transcoderLabel) {
    }

    /**
     * Resolves the demo defaults and checks the directories; fails before anything is loaded.
     *
     * @throws CommandLine.ParameterException for a missing --transcoders or a bad --dtype (exit code 2)
     * @throws CircuitTracerException FILE_NOT_FOUND for a directory that does not exist, or a demo that is absent
     */
    Resolved resolve(CommandLine.Model.CommandSpec spec) {
        Precision precision = precision(spec);
        boolean demoTranscoders = transcoders != null
                && (transcoders.equals(DEMO_PLT) || transcoders.equals(DEMO_CLT) || transcoders.equals("demo"));
        if (model != null && transcoders == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option: --transcoders: "
                    + "give the transcoder directory for --model " + model + ".");
        }
        DemoModel demo = model == null || demoTranscoders ? DemoModel.locate() : null;
        Path modelDirectory = model != null ? model : demo.model();
        Path transcoderDirectory;
        String label;
        if (transcoders == null || transcoders.equals(DEMO_PLT) || transcoders.equals("demo")) {
            transcoderDirectory = demo.perLayerTranscoders();
            label = DEMO_PLT;
        } else if (transcoders.equals(DEMO_CLT)) {
            transcoderDirectory = demo.crossLayerTranscoders();
            label = DEMO_CLT;
        } else {
            transcoderDirectory = Path.of(transcoders);
            label = transcoderDirectory.toString();
        }
        requireDirectory(modelDirectory, "--model");
        requireDirectory(transcoderDirectory, "--transcoders");
        return new Resolved(modelDirectory, transcoderDirectory, model == null, precision, label);
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

    static void requireDirectory(Path path, String option) {
        if (!Files.isDirectory(path)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, option + " " + path
                    + " is not a directory. Give the directory that holds the files.");
        }
    }
}
