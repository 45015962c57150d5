package org.circuittracer.cli;

import java.util.List;
import java.util.Set;

/**
 * Starts DJL's PyTorch engine on a background thread as soon as a command that opens a model begins, so that loading
 * its native libraries (about a second on the machines we measure on; {@code dlopen} of libtorch and its thread pools)
 * overlaps with what the command does first: building the command line, class loading, reading the model's and the
 * transcoders' files. Without it the engine starts when the model is first used, after all of that.
 *
 * <p>Only the launcher's {@code main} warms up (tests and embedders start the engine when they need it). A failure is
 * ignored here: the backend starts the engine again when it needs it and reports the failure then, in its own words.
 * {@code -Dcircuittracer.engine.warmup=false} turns it off.
 */
final class EngineWarmUp {

    /** DJL's name of the engine the djl backend runs on. */
    private static final String ENGINE = "PyTorch";
    /** Commands that open a model on the djl backend unless told otherwise. */
    private static final Set<String> MODEL_COMMANDS = Set.of("attribute", "intervene", "generate", "features", "bench",
            "serve", "export-onnx", "batch");

    private EngineWarmUp() {
    }

    /** Starts the warm-up when {@code args} run a model command on the djl backend; the thread, if one started. */
    static java.util.Optional<Thread> startFor(String[] args) {
        if (!wanted(List.of(args)) || !Boolean.parseBoolean(System.getProperty("circuittracer.engine.warmup", "true"))) {
            return java.util.Optional.empty();
        }
        Thread thread = new Thread(EngineWarmUp::start, "engine-warm-up");
        thread.setDaemon(true); // never keeps a finished command's JVM alive
        thread.start();
        return java.util.Optional.of(thread);
    }

    /**
     * Whether the command line runs a model command without asking only for help or another backend. Conservative: a
     * warm-up that is not needed costs a core for a second, one that is missing costs that second on the main thread.
     */
    static boolean wanted(List<String> args) {
        String command = args.stream().filter(a -> !a.startsWith("-")).findFirst().orElse("");
        if (!MODEL_COMMANDS.contains(command)) {
            return false;
        }
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.equals("--help") || arg.equals("-h") || arg.equals("--version") || arg.equals("-V")
                    || arg.equals("--backend=onnx") || arg.equals("--backend") && i + 1 < args.size()
                    && args.get(i + 1).equals("onnx")) {
                return false;
            }
        }
        return true;
    }

    private static void start() {
        try {
            ai.djl.engine.Engine.getEngine(ENGINE);
        } catch (LinkageError | RuntimeException e) {
            // the backend reports it when it needs the engine
        }
    }
}
