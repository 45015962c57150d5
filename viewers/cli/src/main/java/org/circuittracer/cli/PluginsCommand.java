package org.circuittracer.cli;

import java.nio.file.Path;

import org.circuittracer.runtime.ClasspathProviderRegistry;
import org.circuittracer.runtime.ProviderListing;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code circuit-tracer plugins}: the installed backends, dictionary formats and attributors. */
@Command(name = "plugins", mixinStandardHelpOptions = true,
        description = "List the installed providers: backends, dictionary (transcoder) formats and attributors.",
        footer = {"", "Example:", "  circuit-tracer plugins --plugins ./my-plugins"})
final class PluginsCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--plugins", paramLabel = "DIR",
            description = "Directory of plugin jars (default: plugins/ beside circuit-tracer.jar, if present).")
    Path plugins;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    @Override
    public void run() {
        Path dir = plugins != null ? plugins : Launch.defaultPluginDirectory();
        try (ClasspathProviderRegistry registry = ClasspathProviderRegistry.withPluginDirectory(dir)) {
            spec.commandLine().getOut().print(ProviderListing.format(registry.describe()));
            spec.commandLine().getOut().flush();
        }
    }
}
