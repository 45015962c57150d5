package org.circuittracer.demo;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.circuittracer.dashboards.ActivationExample;
import org.circuittracer.dashboards.FeatureDashboard;
import org.circuittracer.dashboards.files.DashboardReader;

/** What a feature is about, judged only from its dashboard, the way a researcher reads one. */
record FeatureTopics(DashboardReader dashboards) {

    /**
     * Whether the feature's strongest examples peak on {@code words}: at least 60 % of the examples peak on one of
     * them, and on at least two different ones (a feature for one city alone is about that city, not about its state).
     */
    boolean isAbout(int layer, int feature, Set<String> words) {
        List<ActivationExample> top = topExamples(layer, feature);
        if (top.isEmpty()) {
            return false;
        }
        int hits = 0;
        Set<String> distinct = new HashSet<>();
        for (ActivationExample e : top) {
            String peak = e.tokens().get(e.tokenIndex()).strip();
            if (words.contains(peak)) {
                hits++;
                distinct.add(peak);
            }
        }
        return hits >= 0.6 * top.size() && distinct.size() >= 2;
    }

    /** Whether at least 80 % of the examples' contexts contain a word only {@code languageWords}' language uses. */
    boolean isInLanguage(int layer, int feature, Set<String> languageWords) {
        return inLanguageFraction(layer, feature, languageWords) >= 0.8;
    }

    /** The fraction of the top examples whose context contains a word of {@code languageWords}. */
    double inLanguageFraction(int layer, int feature, Set<String> languageWords) {
        List<ActivationExample> top = topExamples(layer, feature);
        if (top.isEmpty()) {
            return 0;
        }
        long inLanguage = top.stream()
                .filter(e -> e.tokens().stream().map(String::strip).anyMatch(languageWords::contains)).count();
        return inLanguage / (double) top.size();
    }

    /**
     * The top examples and the highest quantile band: the feature's strong activations, where what it is about
     * shows, without the top group's repeats of one city hiding the others.
     */
    private List<ActivationExample> topExamples(int layer, int feature) {
        Optional<FeatureDashboard> d = dashboards.read(layer, feature);
        if (d.isEmpty()) {
            return List.of();
        }
        return d.get().groups().stream().limit(2).flatMap(g -> g.examples().stream()).toList();
    }
}
