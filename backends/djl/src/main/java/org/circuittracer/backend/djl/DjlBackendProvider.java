package org.circuittracer.backend.djl;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.circuittracer.spi.Capability;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Recognition;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.transformer.DeviceChoice;
import org.circuittracer.transformer.ModelDirectory;
import org.circuittracer.transformer.architecture.Architecture;
import org.circuittracer.transformer.architecture.Architectures;
import org.circuittracer.transformer.checkpoint.JsonConfig;

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
            BackendCapability.KV_CACHE, BackendCapability.UNEMBEDDING, BackendCapability.HEAD_LOADINGS,
            BackendCapability.QK_ATTRIBUTION));

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

    /**
     * {@code CERTAIN} for a {@code config.json} naming an architecture this backend implements beside
     * {@code *.safetensors} weights, {@code POSSIBLE} without the weights (opening then says which file is missing).
     */
    @Override
    public Recognition recognize(Path directory) {
        Optional<Recognition> unreadable = ModelDirectory.unreadable(directory);
        if (unreadable.isPresent()) {
            return unreadable.get();
        }
        JsonConfig config = ModelDirectory.readableConfig(directory).orElseThrow();
        Optional<Architecture> architecture = Architectures.find(config);
        if (architecture.isEmpty()) {
            return Recognition.none(ModelDirectory.CONFIG + " declares " + config.strings("architectures")
                    .orElse(List.of()) + "; this backend implements " + String.join(", ", Architectures.names()));
        }
        String name = architecture.get().name();
        return ModelDirectory.holdsSafetensors(directory)
                ? Recognition.certain(ModelDirectory.CONFIG + " declares " + name + " and the weights are safetensors")
                : Recognition.possible(ModelDirectory.CONFIG + " declares " + name + ", but there is no *.safetensors");
    }

    @Override
    public TransformerModel create(ModelSource source) {
        Path directory = source.directory();
        ModelDirectory.require(directory, "a Hugging Face model directory (config.json, model.safetensors, "
                + "tokenizer.json)");
        if (DeviceChoice.parse(source.device(), NAME, "auto or cpu") == DeviceChoice.CUDA) {
            Capability.require("backend", NAME, CAPABILITIES, BackendCapability.CUDA, "device " + source.device());
        }
        if (!source.options().isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The djl backend takes no options, "
                    + "got " + source.options().keySet() + ".");
        }
        JsonConfig config = JsonConfig.read(directory.resolve(ModelDirectory.CONFIG));
        Architecture architecture = Architectures.require(config);
        return DjlTransformerModel.open(directory, architecture.read(config), source.precision(), CAPABILITIES);
    }
}
