package org.circuittracer.runtime;

import java.util.List;

/** Formats the providers of a registry as the plain-text table {@code circuit-tracer plugins} prints. */
public final class ProviderListing {

    private ProviderListing() {
    }

    public static String format(List<ProviderInfo> providers) {
        if (providers.isEmpty()) {
            return "No providers found. Put plugin jars into the plugins directory.\n";
        }
        int kindWidth = Math.max(4, providers.stream().mapToInt(p -> p.kind().length()).max().orElse(0));
        int nameWidth = Math.max(4, providers.stream().mapToInt(p -> p.name().length()).max().orElse(0));
        int originWidth = Math.max(6, providers.stream().mapToInt(p -> p.origin().length()).max().orElse(0));
        String row = "%-" + kindWidth + "s  %-" + nameWidth + "s  %-" + originWidth + "s  %s%n";
        StringBuilder out = new StringBuilder(String.format(row, "KIND", "NAME", "ORIGIN", "DESCRIPTION"));
        for (ProviderInfo p : providers) {
            out.append(String.format(row, p.kind(), p.name(), p.origin(), p.description()));
        }
        return out.toString();
    }
}
