package org.circuittracer.testkit;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.circuittracer.spi.Capability;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Recognition;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.Attributor;
import org.circuittracer.spi.attribution.AttributorOptions;
import org.circuittracer.spi.attribution.AttributorProvider;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.spi.model.ForwardResult;
import org.circuittracer.spi.model.GenerationRequest;
import org.circuittracer.spi.model.GenerationResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.Tokenizer;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;

/** Providers that exercise the kits: one that follows the rules and ones that break a single rule each. */
final class SampleProviders {

    /** The file that makes a directory a model of the sample backends. */
    static final String MODEL_FILE = "sample-model.txt";

    private SampleProviders() {
    }

    /** A directory under {@code parent} that the sample backends open. */
    static Path writeModel(Path parent) {
        try {
            Path directory = Files.createDirectories(parent.resolve("sample-model"));
            Files.writeString(directory.resolve(MODEL_FILE), "0.5 -1.25 2.0");
            return directory;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Follows every provider-level rule (registered in the test resources). */
    public static class WellBehavedBackend implements BackendProvider {
        @Override
        public String name() {
            return "well-behaved";
        }

        @Override
        public String description() {
            return "follows the provider rules";
        }

        @Override
        public Set<BackendCapability> capabilities() {
            return Set.of(BackendCapability.HOOKS);
        }

        @Override
        public Recognition recognize(Path directory) {
            return Files.isRegularFile(directory.resolve(MODEL_FILE)) ? Recognition.certain(MODEL_FILE + " is there")
                    : Recognition.none("no " + MODEL_FILE);
        }

        @Override
        public TransformerModel create(ModelSource source) {
            if (!Files.isDirectory(source.directory())) {
                throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND,
                        "Model directory " + source.directory() + " does not exist.");
            }
            if (!recognize(source.directory()).matches()) {
                throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "No " + MODEL_FILE
                        + " in " + source.directory() + ".");
            }
            return new SampleModel(name(), capabilities());
        }
    }

    /** Breaks the naming rule and is not registered. */
    public static class BadlyNamedBackend extends WellBehavedBackend {
        @Override
        public String name() {
            return "Badly_Named";
        }
    }

    /** Crashes with a raw exception on a missing directory and claims every directory. */
    public static class CarelessBackend extends WellBehavedBackend {
        @Override
        public Recognition recognize(Path directory) {
            return Recognition.certain("claims everything");
        }

        @Override
        public TransformerModel create(ModelSource source) {
            throw new IllegalStateException("boom");
        }
    }

    /** Keeps state across instances: every open, by any instance, flips what all of them declare. */
    public static class ForgetfulBackend extends WellBehavedBackend {
        private static final java.util.concurrent.atomic.AtomicInteger OPENS = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public Set<BackendCapability> capabilities() {
            return OPENS.get() % 2 == 0 ? Set.of(BackendCapability.HOOKS) : Set.of();
        }

        @Override
        public TransformerModel create(ModelSource source) {
            OPENS.incrementAndGet();
            return super.create(source);
        }
    }

    /** Hands out its own mutable set, so a caller can change what it declares. */
    public static class LeakyBackend extends WellBehavedBackend {
        private final Set<BackendCapability> declared = EnumSet.of(BackendCapability.HOOKS);

        @Override
        public Set<BackendCapability> capabilities() {
            return declared;
        }
    }

    /** Opens models that claim VJP, which the provider does not declare. */
    public static class OverclaimingBackend extends WellBehavedBackend {
        @Override
        public TransformerModel create(ModelSource source) {
            super.create(source).close();
            return new SampleModel(name(), Set.of(BackendCapability.HOOKS, BackendCapability.VJP));
        }
    }

    /** Hands out one shared model for every open, so closing one closes them all. */
    public static class SharingBackend extends WellBehavedBackend {
        private SampleModel shared;

        @Override
        public synchronized TransformerModel create(ModelSource source) {
            if (shared == null || shared.closed) {
                shared = (SampleModel) super.create(source);
            }
            return shared;
        }
    }

    /** A model whose logits are fixed numbers; unusable once closed. */
    static final class SampleModel implements TransformerModel {
        private final String backend;
        private final Set<BackendCapability> capabilities;
        private volatile boolean closed;

        SampleModel(String backend, Set<BackendCapability> capabilities) {
            this.backend = backend;
            this.capabilities = capabilities;
        }

        @Override
        public String backendName() {
            return backend;
        }

        @Override
        public ModelConfig config() {
            return new ModelConfig("sample", "SampleForCausalLM", 1, 4, 1, 1, 4, 8, 3, 16);
        }

        @Override
        public Tokenizer tokenizer() {
            throw new UnsupportedOperationException("the sample model has no tokenizer");
        }

        @Override
        public Set<BackendCapability> capabilities() {
            return capabilities;
        }

        @Override
        public List<HookSite> sites() {
            return List.of();
        }

        @Override
        public ForwardResult forward(NDManager manager, TokenSequence tokens, List<Hook> hooks) {
            if (closed) {
                throw new IllegalStateException("closed");
            }
            float[] row = {0.5f, -1.25f, 2.0f};
            float[] logits = new float[tokens.length() * row.length];
            for (int t = 0; t < tokens.length(); t++) {
                System.arraycopy(row, 0, logits, t * row.length, row.length);
            }
            return new ForwardResult(manager.create(logits, new ai.djl.ndarray.types.Shape(tokens.length(),
                    row.length)), Map.of());
        }

        @Override
        public LinearizedModel linearize(NDManager manager, TokenSequence tokens, LinearizationSpec spec) {
            Capability.require("backend", backend, capabilities, BackendCapability.VJP, "linearize");
            throw new UnsupportedOperationException("the sample model has no VJP");
        }

        @Override
        public GenerationResult generate(NDManager manager, GenerationRequest request) {
            Capability.require("backend", backend, capabilities, BackendCapability.KV_CACHE, "generation");
            throw new UnsupportedOperationException("the sample model does not generate");
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    /** Follows the attributor provider rules (registered in the test resources); computes nothing. */
    public static class WellBehavedAttributor implements AttributorProvider {
        @Override
        public String name() {
            return "well-behaved-attributor";
        }

        @Override
        public String description() {
            return "follows the attributor provider rules";
        }

        @Override
        public Attributor create(AttributorOptions options) {
            options.requireOnly(Set.of());
            return new Attributor() {
                @Override
                public Set<BackendCapability> requiredCapabilities() {
                    return Set.of(BackendCapability.VJP);
                }

                @Override
                public AttributionGraph attribute(AttributionRequest request, AttributionListener listener) {
                    TransformerModel model = request.model();
                    Capability.require("backend", model.backendName(), model.capabilities(), BackendCapability.VJP,
                            "attribution");
                    return work(request);
                }
            };
        }

        /** What the attributor would do once the capabilities are checked. */
        AttributionGraph work(AttributionRequest request) {
            throw new CircuitTracerException(StandardErrorCode.PLUGIN_FAILURE, "computes nothing");
        }
    }

    /** Accepts any settings silently. */
    public static class LaxAttributor extends WellBehavedAttributor {
        @Override
        public String name() {
            return "lax";
        }

        @Override
        public Attributor create(AttributorOptions options) {
            return super.create(AttributorOptions.none(name()));
        }
    }

    /** Refuses unknown settings but names only one of them. */
    public static class VagueAttributor extends WellBehavedAttributor {
        @Override
        public Attributor create(AttributorOptions options) {
            if (!options.isEmpty()) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Unknown setting "
                        + new java.util.TreeSet<>(options.values().keySet()).last() + ".");
            }
            return super.create(options);
        }
    }

    /** Reads the model before checking that it has the capabilities the attributor requires. */
    public static class HastyAttributor extends WellBehavedAttributor {
        @Override
        public Attributor create(AttributorOptions options) {
            Attributor checked = super.create(options);
            return new Attributor() {
                @Override
                public Set<BackendCapability> requiredCapabilities() {
                    return checked.requiredCapabilities();
                }

                @Override
                public AttributionGraph attribute(AttributionRequest request, AttributionListener listener) {
                    request.model().sites(); // work started before the check
                    return checked.attribute(request, listener);
                }
            };
        }
    }
}
