package org.circuittracer.cli;

import picocli.CommandLine.Option;

/**
 * {@code --verbose}: stack traces of errors. The command never reads it; {@link CircuitTracerCommand} looks for it in
 * the parse result when it reports an error, and {@code main} in the arguments to set the log levels. Mix it in with
 * {@code @CommandLine.Mixin VerboseOption verbose = new VerboseOption();}.
 */
final class VerboseOption {

    /** The help text, also for a command that must place the option itself (serve). */
    static final String DESCRIPTION = "Print stack traces of errors.";

    @Option(names = "--verbose", description = DESCRIPTION)
    boolean verbose;
}
