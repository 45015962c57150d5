package org.circuittracer.dashboards;

/** The phases of {@link FeatureDashboards#collect} and of writing, in order. */
public enum DashboardPhase {
    /** Running the model and the dictionary over the corpus; steps are batches of sequences. */
    CORPUS,
    /** Decoder rows through the unembedding; steps are layers. */
    OUTPUT_TOKENS,
    /** Writing the files; steps are layers. */
    WRITE
}
