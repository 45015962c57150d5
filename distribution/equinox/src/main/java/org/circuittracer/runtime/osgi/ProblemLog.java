package org.circuittracer.runtime.osgi;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The current problems, grouped by what they are about (a jar, a bundle) so that fixing or removing the thing
 * clears them. Every report is also logged. Thread-safe.
 */
final class ProblemLog {

    private static final System.Logger LOG = System.getLogger(EquinoxRuntime.class.getName());

    private final Map<String, List<PluginProblem>> byKey = new LinkedHashMap<>();

    synchronized void report(String key, PluginProblem problem) {
        LOG.log(Level.WARNING, problem.toString());
        byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(problem);
    }

    synchronized void clear(String key) {
        byKey.remove(key);
    }

    synchronized List<PluginProblem> all() {
        return byKey.values().stream().flatMap(List::stream).toList();
    }
}
