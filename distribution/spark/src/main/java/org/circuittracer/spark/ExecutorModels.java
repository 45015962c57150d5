package org.circuittracer.spark;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.circuittracer.cli.ModelSpec;
import org.circuittracer.cli.OpenedModel;

/**
 * The models of this JVM: each {@link ModelSpec} is opened on first use and kept until the JVM ends, so an executor
 * pays for loading (and memory-maps the dictionary) once however many tasks it runs. The SPI's model, dictionary and
 * attributor are thread-safe, so concurrent tasks share one copy.
 */
final class ExecutorModels {

    private static final Map<ModelSpec, OpenedModel> OPEN = new ConcurrentHashMap<>();
    private static final AtomicInteger OPENS = new AtomicInteger();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "circuit-tracer-models-close"));
    }

    private ExecutorModels() {
    }

    /** The opened model of {@code spec}, opening it if this JVM has not yet. */
    static OpenedModel get(ModelSpec spec) {
        return OPEN.computeIfAbsent(spec, s -> {
            OPENS.incrementAndGet();
            return s.open(message -> { });
        });
    }

    /** How many times this JVM opened a model (for tests: once per spec). */
    static int opens() {
        return OPENS.get();
    }

    private static void closeAll() {
        OPEN.values().forEach(m -> {
            try {
                m.close();
            } catch (RuntimeException ignored) {
                // the JVM is ending; nothing to save
            }
        });
        OPEN.clear();
    }
}
