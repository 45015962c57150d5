package org.circuittracer.cli;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code -q/--quiet} and {@code --verbose}, as every command that reports progress on stderr has them. Mix it in with
 * {@code @CommandLine.Mixin ProgressOptions output = new ProgressOptions();} after the command's own options (picocli
 * lists the options where the mixin is declared).
 */
final class ProgressOptions {

    @Option(names = {"-q", "--quiet"}, description = "No progress output.")
    boolean quiet;

    @CommandLine.Mixin
    VerboseOption verbose = new VerboseOption();

    /** A progress listener on the command's stderr that honours {@code --quiet}. */
    ProgressListener listener(CommandLine.Model.CommandSpec spec) {
        return new ProgressListener(spec.commandLine().getErr(), quiet);
    }
}
