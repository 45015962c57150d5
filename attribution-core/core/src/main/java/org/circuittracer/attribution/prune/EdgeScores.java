package org.circuittracer.attribution.prune;

/** Every stored entry's edge score, produced on demand (one pass per call) instead of held in an array. */
@FunctionalInterface
interface EdgeScores {

    /** Receives one score. */
    @FunctionalInterface
    interface Visitor {
        void score(double value);
    }

    /** Calls {@code visitor} once per stored entry, with a score ≥ 0. */
    void forEach(Visitor visitor);
}
