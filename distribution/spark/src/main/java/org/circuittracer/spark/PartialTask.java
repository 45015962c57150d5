package org.circuittracer.spark;

import java.util.Iterator;
import java.util.List;

import org.apache.spark.api.java.function.Function2;
import org.apache.spark.util.LongAccumulator;

import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.cli.ModelSpec;
import org.circuittracer.cli.OpenedModel;
import org.circuittracer.dashboards.CorpusSlice;
import org.circuittracer.dashboards.DashboardListener;
import org.circuittracer.dashboards.DashboardOptions;
import org.circuittracer.dashboards.DashboardPhase;
import org.circuittracer.dashboards.FeatureDashboards;

/**
 * The dashboards pass over one partition: the single-machine bounded-memory pass over its documents, numbered from
 * where the partition starts in the corpus, returned as the bytes of its partial state for the merge.
 */
final class PartialTask implements Function2<Integer, Iterator<CorpusLine>, Iterator<byte[]>> {

    private static final long serialVersionUID = 1L;

    private final CorpusInput input;
    private final ModelSpec model;
    private final DashboardOptions options;
    private final CorpusSlice[] starts;
    private final LongAccumulator documentsDone;

    PartialTask(CorpusInput input, ModelSpec model, DashboardOptions options, CorpusSlice[] starts,
                LongAccumulator documentsDone) {
        this.input = input;
        this.model = model;
        this.options = options;
        this.starts = starts.clone();
        this.documentsDone = documentsDone;
    }

    @Override
    public Iterator<byte[]> call(Integer partition, Iterator<CorpusLine> lines) {
        OpenedModel opened = ExecutorModels.get(model);
        ReplacementModel replacement = ReplacementModel.of(opened.model(), opened.dictionary());
        DashboardListener progress = new DashboardListener() {
            private long reported;

            @Override
            public void progress(DashboardPhase phase, long done, long totalSteps, long tokens) {
                documentsDone.add(done - reported);
                reported = done;
            }
        };
        byte[] partial = FeatureDashboards.collectPartial(replacement, new PartitionDocuments(input, lines),
                starts[partition], options, progress).toBytes();
        return List.of(partial).iterator();
    }
}
