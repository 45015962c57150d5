package org.circuittracer.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.circuittracer.demo.DemoModel;
import org.circuittracer.hub.HubCache;
import org.circuittracer.hub.NotCachedException;
import org.circuittracer.hub.RepoRef;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.model.Precision;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The options of every command that opens a model and a transcoder set. Without {@code --model} the embedded demo
 * model is used, with its per-layer transcoders unless {@code --transcoders} says otherwise. How they are opened
 * ({@code --backend}, {@code --dtype}, …) is {@link LoadOptions}, which {@code features} uses without the demo default.
 */
final class ModelOptions {

    /** {@code --transcoders} values that name the demo's transcoder sets. */
    static final String DEMO_PLT = "demo-plt";
    static final String DEMO_CLT = "demo-clt";

    @Option(names = {"-m", "--model"}, paramLabel = "DIR|REPO_ID", order = 1,
            description = "Model directory in Hugging Face layout (config.json, *.safetensors, tokenizer.json), or an "
                    + "ONNX export of one (model.onnx; see export-onnx), or a Hugging Face repo id ORG/NAME[@REVISION] "
                    + "read from the local Hugging Face cache (HF_HUB_CACHE, else HF_HOME/hub, else the default; "
                    + "nothing is downloaded). Default: the embedded demo model, or the model_name of transcoders "
                    + "given as a repo id.")
    String model;

    @Option(names = {"-t", "--transcoders", "--transcoder-set", "--transcoder_set"},
            paramLabel = "DIR|REPO_ID|PRESET", order = 2,
            description = "Transcoder (dictionary) directory, a Hugging Face repo id from the local cache (as for "
                    + "--model), the reference's presets gemma or llama, or the demo's per-layer (demo-plt) or "
                    + "cross-layer (demo-clt) transcoders. Default with the demo model: demo-plt; required with "
                    + "--model.")
    String transcoders;

    /** Backend, dictionary format, precision, plugins and TopK k: how the model and transcoders are opened. */
    @CommandLine.Mixin
    LoadOptions load = new LoadOptions();

    /** The dictionary to open: {@code directory} with the dictionary options the flags give. */
    DictionarySource dictionarySource(Path directory) {
        return load.dictionarySource(directory);
    }

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
        load.check(spec);
        return resolve(spec, HubCache.fromEnvironment());
    }

    /** {@link #resolve(CommandLine.Model.CommandSpec)} with Hugging Face repo ids looked up in {@code hub}. */
    Resolved resolve(CommandLine.Model.CommandSpec spec, HubCache hub) {
        Precision precision = load.precision(spec);
        boolean demoTranscoders = transcoders != null
                && (transcoders.equals(DEMO_PLT) || transcoders.equals(DEMO_CLT) || transcoders.equals("demo"));
        if (model != null && transcoders == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option: --transcoders: "
                    + "give the transcoder directory or repo id for --model " + model + ".");
        }
        // an explicit --model first, so that when neither it nor the transcoders are cached one error names both
        Path modelDirectory = null;
        CircuitTracerException modelMissing = null;
        if (model != null) {
            try {
                modelDirectory = locate(model, "--model", hub, false).path();
            } catch (CircuitTracerException e) {
                modelMissing = e;
            }
        }
        Path transcoderDirectory = null;
        String label;
        Located fromHub = null;
        if (transcoders == null || transcoders.equals(DEMO_PLT) || transcoders.equals("demo")) {
            label = DEMO_PLT;
        } else if (transcoders.equals(DEMO_CLT)) {
            label = DEMO_CLT;
        } else {
            try {
                fromHub = locate(transcoders, "--transcoders", hub, true);
            } catch (CircuitTracerException e) {
                if (modelMissing != null) {
                    throw new CircuitTracerException(e.errorCode(), modelMissing.getMessage() + "\n"
                            + e.getMessage(), e);
                }
                throw e;
            }
            transcoderDirectory = fromHub.path();
            label = transcoders;
        }
        if (modelMissing != null) {
            throw modelMissing;
        }
        String modelName = model;
        if (modelName == null && fromHub != null && fromHub.repo() != null) {
            // as the reference does for --transcoder_set gemma: the model the transcoders were trained on
            modelName = modelNameOf(transcoderDirectory);
            if (modelName != null) {
                modelDirectory = locate(modelName, "The transcoders' model_name (in " + fromHub.repo()
                        + "/config.yaml; give --model to use another)", hub, false).path();
            }
        }
        DemoModel demo = modelName == null || demoTranscoders ? DemoModel.locate() : null;
        if (modelDirectory == null) {
            modelDirectory = demo.model();
        }
        if (transcoderDirectory == null) {
            transcoderDirectory = label.equals(DEMO_CLT) ? demo.crossLayerTranscoders() : demo.perLayerTranscoders();
        }
        requireDirectory(modelDirectory, "--model");
        requireDirectory(transcoderDirectory, "--transcoders");
        return new Resolved(modelDirectory, transcoderDirectory, modelName == null, precision, label);
    }

    /** A directory option's value as found: a local path, or a repository from the Hugging Face cache. */
    record Located(Path path, RepoRef repo) {
    }

    /**
     * The local path {@code value} names when it exists (a local directory always wins), else the Hugging Face repo
     * it names ({@code ORG/NAME[/PATH][@REV]}, {@code hf://ORG/NAME/PATH[?revision=R]}, or with {@code presets} the
     * reference's transcoder presets) from the
     * local cache; else the path as given, which the caller reports as missing.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND when the repo is not cached, ending with the line that fetches it
     */
    static Located locate(String value, String option, HubCache hub, boolean presets) {
        Path local;
        try {
            local = Path.of(value);
        } catch (InvalidPathException e) {
            local = null;
        }
        if (local != null && Files.exists(local)) {
            return new Located(local, null);
        }
        Optional<RepoRef> preset = presets ? hub.preset(value) : Optional.empty();
        Optional<RepoRef> ref = preset.isPresent() ? preset
                : value.startsWith("hf://") ? Optional.of(RepoRef.parseUri(value)) : RepoRef.tryParse(value);
        if (ref.isEmpty()) {
            if (local == null) {
                throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, option + " " + value
                        + " is neither a directory nor a Hugging Face repo id (ORG/NAME[@REVISION]).");
            }
            return new Located(local, null);
        }
        String read = preset.isPresent() ? " is the reference's preset for Hugging Face repo " + ref.get() + "."
                : " is not a local directory, so it names a Hugging Face repo.";
        try {
            return new Located(hub.locate(ref.get()).path(), ref.get());
        } catch (NotCachedException e) {
            throw new CircuitTracerException(e.errorCode(), option + " " + value + read + " " + e.getMessage(), e);
        }
    }

    /** The {@code model_name} of a transcoder directory's {@code config.yaml}, or null when it names none. */
    static String modelNameOf(Path transcoderDirectory) {
        Path config = transcoderDirectory.resolve("config.yaml");
        if (!Files.isRegularFile(config)) {
            return null;
        }
        try {
            for (String line : Files.readAllLines(config, StandardCharsets.UTF_8)) {
                Matcher m = MODEL_NAME.matcher(line);
                if (m.matches()) {
                    return m.group(1);
                }
            }
            return null;
        } catch (IOException | UncheckedIOException e) {
            return null; // the format plugin reports an unreadable configuration
        }
    }

    private static final Pattern MODEL_NAME =
            Pattern.compile("model_name:\\s*[\"']?([^\"'#\\s]+)[\"']?\\s*(#.*)?");

    Precision precision(CommandLine.Model.CommandSpec spec) {
        return load.precision(spec);
    }

    Path pluginDirectory() {
        return load.pluginDirectory();
    }

    static void requireDirectory(Path path, String option) {
        if (!Files.isDirectory(path)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, option + " " + path
                    + " is not a directory. Give the directory that holds the files.");
        }
    }
}
