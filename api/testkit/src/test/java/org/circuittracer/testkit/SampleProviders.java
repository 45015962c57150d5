package org.circuittracer.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.Attributor;
import org.circuittracer.spi.attribution.AttributorProvider;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TransformerModel;

/** Providers that exercise the kits: one that follows the rules and ones that break a single rule each. */
final class SampleProviders {

    private SampleProviders() {
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
        public boolean canOpen(Path directory) {
            return Files.isRegularFile(directory.resolve("config.json"));
        }

        @Override
        public TransformerModel create(ModelSource source) {
            if (!Files.isDirectory(source.directory())) {
                throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND,
                        "Model directory " + source.directory() + " does not exist.");
            }
            throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "Opens no model.");
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
        public boolean canOpen(Path directory) {
            return true;
        }

        @Override
        public TransformerModel create(ModelSource source) {
            throw new IllegalStateException("boom");
        }
    }

    /** Accepts any settings silently. */
    public static class LaxAttributor implements AttributorProvider {
        @Override
        public String name() {
            return "lax";
        }

        @Override
        public String description() {
            return "ignores unknown settings";
        }

        @Override
        public Attributor create(Map<String, String> settings) {
            return new Attributor() {
                @Override
                public Set<BackendCapability> requiredCapabilities() {
                    return Set.of();
                }

                @Override
                public org.circuittracer.spi.graph.AttributionGraph attribute(
                        org.circuittracer.spi.attribution.AttributionRequest request,
                        org.circuittracer.spi.attribution.AttributionListener listener) {
                    throw new CircuitTracerException(StandardErrorCode.PLUGIN_FAILURE, "computes nothing");
                }
            };
        }
    }
}
