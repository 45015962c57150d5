package org.circuittracer.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import ai.djl.ndarray.NDManager;

import org.circuittracer.attribution.replacement.PromptTokens;
import org.circuittracer.hub.HubCache;
import org.circuittracer.onnx.export.OnnxExporter;
import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code circuit-tracer export-onnx}: a Hugging Face model directory the {@code djl} backend opens, written as the
 * {@code onnx} backend's directory by the ONNX exporter, then checked by running both backends (from the registry of
 * the runtime in use) on a short prompt.
 */
@Command(name = "export-onnx", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Export a Hugging Face model directory (GPT-2, Llama, Gemma-2 or Qwen-3: what the djl backend "
                + "opens) to ONNX for the onnx backend: OUTPUT/model.onnx (+ model.onnx_data with --external-data), "
                + "config.json and the tokenizer files. No Python is needed.",
                "Then it checks the export: both backends run a short prompt and the largest relative logit "
                + "difference (max |onnx - djl| / max(1, max |djl|)) is printed; above "
                + ExportOnnxCommand.TOLERANCE_SHOWN + " the command fails (exit 4) and leaves the files for "
                + "inspection."},
        footer = {"", "Examples:",
                "  circuit-tracer export-onnx --model models/llama --output models/llama-onnx",
                "      writes models/llama-onnx/model.onnx, config.json, tokenizer.json, ...",
                "  circuit-tracer export-onnx --model models/gemma-2-2b \\",
                "      --output models/gemma-2-2b-onnx --external-data",
                "      the weights in model.onnx_data beside model.onnx (needed above 2 GB)",
                "  circuit-tracer attribute --model models/llama-onnx \\",
                "      --transcoders transcoders/llama-plt --prompt \"the cat sat\"",
                "      a directory with model.onnx opens with the onnx backend",
                "      (--backend onnx says so explicitly)",
                "Runs in both runtimes (the exporter is on the host class path); the",
                "exported directory then opens in both."})
final class ExportOnnxCommand implements Runnable {

    /** Largest accepted relative logit difference between the two backends. */
    static final double TOLERANCE = 1e-3;
    static final String TOLERANCE_SHOWN = "1e-3";
    static final String DEFAULT_PROMPT = "The quick brown fox jumps over the lazy dog";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR|REPO_ID", order = 1,
            description = "The Hugging Face model directory (config.json, *.safetensors, tokenizer.json), or a "
                    + "Hugging Face repo id ORG/NAME[@REVISION] read from the local Hugging Face cache (nothing is "
                    + "downloaded).")
    String modelName;

    /** The model directory {@link #modelName} names. */
    private Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", order = 2,
            description = "Directory to write (created if missing; must be empty unless --force).")
    Path output;

    @Option(names = "--external-data", order = 3,
            description = "Write the weights to model.onnx_data instead of inside model.onnx (needed above 2 GB).")
    boolean externalData;

    @Option(names = "--force", order = 4,
            description = "Write into an existing, non-empty --output, replacing the files the export writes.")
    boolean force;

    @Option(names = "--verify-prompt", paramLabel = "TEXT", defaultValue = DEFAULT_PROMPT, order = 5,
            description = "The prompt both backends run for the check (default: \"${DEFAULT-VALUE}\").")
    String verifyPrompt;

    @Option(names = "--no-verify", order = 6, description = "Skip the check (it loads the model twice).")
    boolean noVerify;

    @Option(names = "--plugins", paramLabel = "DIR", order = 7,
            description = "Directory of plugin jars (default: plugins/ of the installation, if present).")
    Path plugins;

    @Option(names = {"-q", "--quiet"}, order = 8, description = "No progress output.")
    boolean quiet;

    @Option(names = "--verbose", order = 9, description = "Print stack traces of errors.")
    boolean verbose;

    @Override
    public void run() {
        model = ModelOptions.locate(modelName, "--model", HubCache.fromEnvironment(), false).path();
        ModelOptions.requireDirectory(model, "--model");
        checkOutput();
        ProgressListener progress = new ProgressListener(spec.commandLine().getErr(), quiet);
        PrintWriter out = spec.commandLine().getOut();
        progress.note("Exporting " + model + " to ONNX in " + output + (externalData ? " (external data)" : ""));
        long start = System.nanoTime();
        FileTime since = FileTime.fromMillis(System.currentTimeMillis() - 2000);
        Exporter.export(model, output, externalData, force);
        out.printf(Locale.ROOT, "Exported %s to %s in %.1f s:%n", model, output, (System.nanoTime() - start) / 1e9);
        for (Path file : written(since)) {
            out.printf(Locale.ROOT, "  %-26s %s%n", file.getFileName(), size(file));
        }
        out.flush();
        if (noVerify) {
            return;
        }
        Path dir = plugins != null ? plugins : Launch.defaultPluginDirectory();
        try (Registries.Registry registry = Registries.open(dir)) {
            Verification v = verify(registry, progress);
            out.printf(Locale.ROOT, "Checked: djl and onnx on %d tokens %s: max relative logit difference %.2e "
                    + "(%s layers, vocabulary %d)%n", v.tokens(), v.prompt(), v.difference(), v.layers(),
                    v.vocabulary());
            out.flush();
            if (!(v.difference() <= TOLERANCE)) {
                throw new CircuitTracerException(StandardErrorCode.INTERNAL, "The export's logits differ from the "
                        + "djl backend's by " + String.format(Locale.ROOT, "%.2e", v.difference()) + " (relative), "
                        + "more than " + TOLERANCE_SHOWN + ". The files are left in " + output + " for inspection; "
                        + "please report this with the model's config.json.");
            }
        }
    }

    /** What the check found. */
    record Verification(int tokens, String prompt, double difference, int layers, int vocabulary) {
    }

    private Verification verify(Registries.Registry registry, ProgressListener progress) {
        progress.note("Checking the export: djl on " + model + " and onnx on " + output);
        try (TransformerModel djl = registry.get(ProviderKind.BACKEND, "djl").create(ModelSource.of(model));
             TransformerModel onnx = registry.get(ProviderKind.BACKEND, "onnx").create(ModelSource.of(output));
             NDManager manager = NDManager.newBaseManager()) {
            int vocabulary = djl.tokenizer().vocabularySize();
            TokenSequence tokens;
            String shown;
            try {
                tokens = PromptTokens.tokenize(verifyPrompt, djl.tokenizer(), djl.config().modelName())
                        .requireInVocabulary(vocabulary);
                shown = "of \"" + verifyPrompt + "\"";
            } catch (CircuitTracerException e) {
                if (spec.commandLine().getParseResult().hasMatchedOption("--verify-prompt")) {
                    throw new CircuitTracerException(e.errorCode(), "--verify-prompt \"" + verifyPrompt + "\" "
                            + "cannot be used: " + e.getMessage() + " The export in " + output + " is written; "
                            + "check it with another --verify-prompt (and --force), or leave the option out.", e);
                }
                // e.g. a word-level tokenizer without an unknown token: any ids serve the check
                int[] ids = spreadIds(vocabulary);
                tokens = PromptTokens.prepare(new TokenSequence(ids), djl.tokenizer(), djl.config().modelName());
                shown = "(ids " + java.util.Arrays.toString(tokens.ids()) + "; the tokenizer cannot encode the "
                        + "default prompt)";
            }
            float[] expected = djl.forward(manager, tokens, List.of()).logits().toFloatArray();
            float[] actual = onnx.forward(manager, tokens, List.of()).logits().toFloatArray();
            return new Verification(tokens.length(), shown, relativeDifference(actual, expected),
                    djl.config().layers(), djl.config().vocabularySize());
        }
    }

    /** Eight token ids spread over the vocabulary. */
    static int[] spreadIds(int vocabulary) {
        int[] ids = new int[Math.min(8, vocabulary)];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (int) ((long) vocabulary * (2 * i + 1) / (2L * ids.length));
        }
        return ids;
    }

    /** {@code max |a - b| / max(1, max |b|)}; infinite for arrays of different lengths, NaN where a value is NaN. */
    static double relativeDifference(float[] actual, float[] expected) {
        if (actual.length != expected.length) {
            return Double.POSITIVE_INFINITY;
        }
        double scale = 1;
        double worst = 0;
        for (int i = 0; i < actual.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            double d = Math.abs((double) actual[i] - expected[i]);
            if (Double.isNaN(d)) {
                return Double.NaN;
            }
            worst = Math.max(worst, d);
        }
        return worst / scale;
    }

    /** Fails (exit 2) for an output that is the model, a file, or a non-empty directory without --force. */
    private void checkOutput() {
        if (output.toAbsolutePath().normalize().equals(model.toAbsolutePath().normalize())) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "--output " + output + " is the "
                    + "model directory; give another directory for the ONNX export.");
        }
        if (Files.exists(output) && !Files.isDirectory(output)) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "--output " + output + " is a file; "
                    + "give a directory (it is created if missing).");
        }
        if (Files.isDirectory(output) && !force && !isEmpty(output)) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "--output " + output + " exists and "
                    + "is not empty. Give --force to write into it (replacing model.onnx and the copied files), or "
                    + "another directory.");
        }
    }

    private static boolean isEmpty(Path directory) {
        try (Stream<Path> files = Files.list(directory)) {
            return files.findAny().isEmpty();
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot read --output " + directory
                    + ": " + e.getMessage(), e);
        }
    }

    private List<Path> written(FileTime since) {
        try (Stream<Path> files = Files.list(output)) {
            return files.filter(Files::isRegularFile).filter(f -> modifiedSince(f, since)).sorted().toList();
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot list " + output + ": "
                    + e.getMessage(), e);
        }
    }

    private static boolean modifiedSince(Path file, FileTime since) {
        try {
            return Files.getLastModifiedTime(file).compareTo(since) >= 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static String size(Path file) {
        try {
            long bytes = Files.size(file);
            return bytes < 1024 ? bytes + " B" : bytes < 1024 * 1024
                    ? String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0)
                    : String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
        } catch (IOException e) {
            return "?";
        }
    }

    /** The calls into the exporter (circuit-tracer-onnx-export, on the host class path in both runtimes). */
    private static final class Exporter {

        static void export(Path model, Path output, boolean externalData, boolean force) {
            if (!externalData && force) {
                try {
                    // a stale weights file from an earlier --external-data export would be misleading
                    Files.deleteIfExists(output.resolve(OnnxExporter.EXTERNAL_DATA));
                } catch (IOException e) {
                    throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot replace "
                            + output.resolve(OnnxExporter.EXTERNAL_DATA) + ": " + e.getMessage(), e);
                }
            }
            try (NDManager manager = NDManager.newBaseManager()) {
                OnnxExporter.export(model, output, new OnnxExporter.Options(externalData), manager);
            } catch (CircuitTracerException e) {
                if (e.errorCode() == StandardErrorCode.UNSUPPORTED_ARCHITECTURE) {
                    throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "export-onnx "
                            + "exports the architectures the djl backend implements, and " + model + " is none of "
                            + "them: " + e.getMessage(), e);
                }
                throw e;
            }
        }
    }
}
