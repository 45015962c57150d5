package org.circuittracer.backend.djl;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import org.circuittracer.backend.djl.architecture.Architecture;
import org.circuittracer.backend.djl.architecture.Architectures;
import org.circuittracer.backend.djl.checkpoint.JsonConfig;
import org.circuittracer.spi.Capability;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TransformerModel;

/**
 * The backend {@value #NAME}: GPT-2, Llama, Gemma-2 and Qwen-3 implemented natively on DJL NDArrays with the PyTorch
 * engine (CPU), with hooks at every TransformerLens site. Opens Hugging Face model directories ({@code config.json},
 * {@code model.safetensors} or a sharded index, {@code tokenizer.json}). Takes no options.
 */
// OPTIONAL: without it the bundle would require the osgi.serviceloader.registrar extender (SPI Fly) to resolve.
@ServiceProvider(value = BackendProvider.class, resolution = Resolution.OPTIONAL)
public final class DjlBackendProvider implements BackendProvider {

    /** The provider's name. */
    public static final String NAME = "djl";

    private static final Set<BackendCapability> CAPABILITIES = Collections.unmodifiableSet(EnumSet.of(
            BackendCapability.HOOKS, BackendCapability.FUNCTION_HOOKS, BackendCapability.FREEZE_ATTENTION,
            BackendCapability.FREEZE_NORMS, BackendCapability.FLOAT16, BackendCapability.VJP,
            BackendCapability.KV_CACHE, BackendCapability.UNEMBEDDING));

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "GPT-2, Llama, Gemma-2 and Qwen-3 on DJL's PyTorch engine (CPU), hooks at every site.";
    }

    @Override
    public Set<BackendCapability> capabilities() {
        return CAPABILITIES;
    }

    @Override
    public boolean canOpen(Path directory) {
        Path config = directory.resolve("config.json");
        if (!Files.isRegularFile(config)) {
            return false;
        }
        try {
            return Architectures.find(JsonConfig.read(config)).isPresent();
        } catch (CircuitTracerException e) {
            return false;
        }
    }

    @Override
    public TransformerModel create(ModelSource source) {
        Path directory = source.directory();
        if (!Files.isDirectory(directory)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The model directory " + directory
                    + (Files.exists(directory) ? " is not a directory" : " does not exist")
                    + ". Give a Hugging Face model directory (config.json, model.safetensors, tokenizer.json).");
        }
        checkDevice(source.device());
        if (!source.options().isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The djl backend takes no options, "
                    + "got " + source.options().keySet() + ".");
        }
        JsonConfig config = JsonConfig.read(directory.resolve("config.json"));
        Architecture architecture = Architectures.require(config);
        return DjlTransformerModel.open(directory, architecture.read(config), source.precision(), CAPABILITIES);
    }

    private static void checkDevice(String device) {
        if (device.equals("auto") || device.equals("cpu")) {
            return;
        }
        if (device.startsWith("gpu") || device.startsWith("cuda")) {
            Capability.require("backend", NAME, CAPABILITIES, BackendCapability.CUDA, "device " + device);
        }
        throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Unknown device '" + device
                + "' for the djl backend; use auto or cpu.");
    }
}
