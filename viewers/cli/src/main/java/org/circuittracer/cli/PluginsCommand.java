package org.circuittracer.cli;

import java.nio.file.Path;

import org.circuittracer.runtime.ProviderListing;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code circuit-tracer plugins}: the installed backends, dictionary formats and attributors. */
@Command(name = "plugins", mixinStandardHelpOptions = true,
        description = {"List the installed providers: backends, dictionary (transcoder) formats and attributors, and "
                + "where each comes from (the class path, a plugin jar, or an OSGi bundle under --osgi)."},
        footer = {"", "Examples:", "  circuit-tracer plugins", "  circuit-tracer plugins --plugins ./my-plugins",
                "  circuit-tracer --osgi plugins      (packaged launcher: providers from OSGi bundles)"})
final class PluginsCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--plugins", paramLabel = "DIR",
            description = "Directory of plugin jars (default: plugins/ of the installation, if present).")
    Path plugins;

    @CommandLine.Mixin
    VerboseOption verbose = new VerboseOption();

    @Override
    public void run() {
        Path dir = plugins != null ? plugins : Launch.defaultPluginDirectory();
        try (Registries.Registry registry = Registries.open(dir)) {
            var out = spec.commandLine().getOut();
            out.println("Runtime: " + registry.runtime() + (dir != null ? "; plugins directory " + dir : ""));
            out.print(ProviderListing.format(registry.describe()));
            if (!registry.problems().isEmpty()) {
                out.println();
                out.println("Problems:");
                registry.problems().forEach(p -> out.println("  " + p));
            }
            out.flush();
        }
    }
}
