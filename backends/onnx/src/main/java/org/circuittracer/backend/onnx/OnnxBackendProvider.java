package org.circuittracer.backend.onnx;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.circuittracer.backend.onnx.graph.ModelInputs;
import org.circuittracer.backend.onnx.graph.OnnxModelFile;
import org.circuittracer.backend.onnx.graph.Sessions;
import org.circuittracer.backend.onnx.sitemap.ResolvedSites;
import org.circuittracer.backend.onnx.sitemap.SiteMap;
import org.circuittracer.spi.Capability;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Recognition;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.Precision;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.transformer.DeviceChoice;
import org.circuittracer.transformer.ModelDirectory;
import org.circuittracer.transformer.checkpoint.JsonConfig;

/**
 * The backend {@value #NAME}: decoder-only language models exported to ONNX ({@code model.onnx} (+ external data),
 * {@code config.json}, {@code tokenizer.json}, as Hugging Face Optimum or {@code circuit-tracer export-onnx} write
 * them) run on ONNX Runtime, on CUDA when its execution provider is present (the {@code onnxruntime_gpu} build) and
 * otherwise on the CPU. Sites are found through a site map per architecture family (GPT-2, Llama, Gemma-2, Qwen-3)
 * or one the user gives.
 *
 * <p>Options: {@code site-map} (a JSON site map for other architectures or other node names, see
 * {@link SiteMap}), {@code threads} (ONNX Runtime intra-op threads; default one per core).
 */
@ServiceProvider(value = BackendProvider.class, resolution = Resolution.OPTIONAL)
public final class OnnxBackendProvider implements BackendProvider {

    /** The provider's name. */
    public static final String NAME = "onnx";
    private static final Set<String> OPTIONS = Set.of("site-map", "threads");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "ONNX exports (Optimum layout) on ONNX Runtime, CPU or CUDA: hooks by graph surgery, VJP, KV cache.";
    }

    /**
     * Hooks (capture, replace, add; no Java functions), frozen patterns and scales, the VJP, the key/value cache and
     * the unembedding; CUDA when the CUDA build of ONNX Runtime is on the class path. A model reports what its graph
     * and site map allow.
     */
    @Override
    public Set<BackendCapability> capabilities() {
        Set<BackendCapability> caps = EnumSet.of(BackendCapability.HOOKS, BackendCapability.FREEZE_ATTENTION,
                BackendCapability.FREEZE_NORMS, BackendCapability.VJP, BackendCapability.KV_CACHE,
                BackendCapability.UNEMBEDDING, BackendCapability.HEAD_LOADINGS, BackendCapability.QK_ATTRIBUTION);
        if (cudaBuild()) {
            caps.add(BackendCapability.CUDA);
        }
        return Set.copyOf(caps);
    }

    /** Whether the onnxruntime_gpu jar is on the class path (looked up without loading native code). */
    private static boolean cudaBuild() {
        ClassLoader loader = OnnxBackendProvider.class.getClassLoader();
        return loader.getResource("ai/onnxruntime/native/linux-x64/libonnxruntime_providers_cuda.so") != null
                || loader.getResource("ai/onnxruntime/native/win-x64/onnxruntime_providers_cuda.dll") != null;
    }

    /** {@code CERTAIN} for a {@code model.onnx} beside a {@code config.json} naming an architecture with a site map. */
    @Override
    public Recognition recognize(Path directory) {
        Optional<Recognition> unreadable = ModelDirectory.unreadable(directory);
        if (unreadable.isPresent()) {
            return unreadable.get();
        }
        if (!Files.isRegularFile(directory.resolve(OnnxModelFile.FILE))) {
            return Recognition.none("no " + OnnxModelFile.FILE);
        }
        JsonConfig config = ModelDirectory.readableConfig(directory).orElseThrow();
        String architecture;
        try {
            architecture = OnnxModelConfig.architecture(config);
        } catch (CircuitTracerException e) {
            return Recognition.none(ModelDirectory.CONFIG + " has no \"architectures\"");
        }
        return SiteMap.builtIn(architecture).isPresent()
                ? Recognition.certain(OnnxModelFile.FILE + " beside a " + ModelDirectory.CONFIG + " declaring "
                        + architecture)
                : Recognition.none(ModelDirectory.CONFIG + " declares " + architecture + "; this backend has site maps "
                        + "for " + String.join(", ", SiteMap.builtInArchitectures()));
    }

    @Override
    public TransformerModel create(ModelSource source) {
        Path directory = source.directory();
        ModelDirectory.require(directory, "a directory with an ONNX export (model.onnx, config.json, tokenizer.json)");
        Map<String, String> options = source.options();
        for (String key : options.keySet()) {
            if (!OPTIONS.contains(key)) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Unknown option '" + key
                        + "' for the onnx backend; it takes " + OPTIONS + ".");
            }
        }
        if (source.precision() != Precision.FLOAT32) {
            Capability.require("backend", NAME, capabilities(), BackendCapability.FLOAT16, "precision "
                    + source.precision());
        }
        int threads = threads(options.get("threads"));
        Path config = directory.resolve(ModelDirectory.CONFIG);
        if (!Files.isRegularFile(config)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "No config.json in " + directory
                    + ". An ONNX export keeps the Hugging Face config.json beside model.onnx.");
        }
        JsonConfig json = JsonConfig.read(config);
        String architecture = OnnxModelConfig.architecture(json);
        SiteMap map = options.containsKey("site-map") ? SiteMap.read(Path.of(options.get("site-map")))
                : SiteMap.builtIn(architecture).orElseThrow(() -> new CircuitTracerException(
                        StandardErrorCode.UNSUPPORTED_ARCHITECTURE, config + " declares the architecture "
                        + architecture + ", for which the onnx backend has no site map. Built-in: "
                        + String.join(", ", SiteMap.builtInArchitectures()) + ". Give one with the option "
                        + "site-map=<file.json> (docs/backends/onnx.md)."));
        ModelConfig modelConfig = OnnxModelConfig.read(json, ModelDirectory.name(directory));
        OnnxModelFile file = OnnxModelFile.read(directory);
        ResolvedSites sites = ResolvedSites.resolve(map, file);
        if (sites.tensors().isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "The site map '" + map.family()
                    + "' finds no site in " + directory.resolve(OnnxModelFile.FILE) + ": its node names differ. "
                    + "Re-export with 'circuit-tracer export-onnx' or give a site map for this export "
                    + "(option site-map).");
        }
        ModelInputs inputs = ModelInputs.of(file, modelConfig.layers());
        Sessions.Device device = device(source.device());
        Sessions sessions = new Sessions(file, sites.tensors(), device, threads);
        try {
            return new OnnxTransformerModel(directory, modelConfig, file, sites, inputs, sessions,
                    OnnxModelConfig.refusedTokens(json), OnnxModelConfig.queryKeySettings(json));
        } catch (RuntimeException e) {
            sessions.close();
            throw e;
        }
    }

    private static Sessions.Device device(String device) {
        return switch (DeviceChoice.parse(device, NAME, "auto, cpu or cuda")) {
            case AUTO -> Sessions.choose("auto");
            case CPU -> Sessions.choose("cpu");
            case CUDA -> Sessions.choose("cuda");
        };
    }

    private static int threads(String value) {
        if (value == null) {
            return 0;
        }
        try {
            int threads = Integer.parseInt(value);
            if (threads >= 1) {
                return threads;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The option threads must be a whole "
                + "number >= 1, got '" + value + "'.");
    }
}
