package org.circuittracer.spark;

import java.util.Iterator;
import java.util.List;

import org.apache.spark.api.java.function.Function2;

import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.cli.ModelSpec;
import org.circuittracer.cli.OpenedModel;
import org.circuittracer.dashboards.Corpus;
import org.circuittracer.dashboards.CorpusDocument;
import org.circuittracer.dashboards.CorpusSlice;
import org.circuittracer.dashboards.DashboardOptions;
import org.circuittracer.dashboards.FeatureDashboards;
import org.circuittracer.spi.CircuitTracerException;

/**
 * The counting pass over one partition: its documents and the sequences they split into (tokenisation only), which
 * give every partition its place in the corpus-wide numbering ({@link CorpusSlice}). A document that cannot be read
 * ends the count with its error, which the driver reports with the document's corpus-wide number.
 */
final class CountTask implements Function2<Integer, Iterator<CorpusLine>, Iterator<SliceCount>> {

    private static final long serialVersionUID = 1L;

    private final CorpusInput input;
    private final ModelSpec model;
    private final DashboardOptions options;

    CountTask(CorpusInput input, ModelSpec model, DashboardOptions options) {
        this.input = input;
        this.model = model;
        this.options = options;
    }

    @Override
    public Iterator<SliceCount> call(Integer partition, Iterator<CorpusLine> lines) {
        OpenedModel opened = ExecutorModels.get(model);
        ReplacementModel replacement = ReplacementModel.of(opened.model(), opened.dictionary());
        PartitionDocuments documents = new PartitionDocuments(input, lines);
        long count = 0;
        long sequences = 0;
        try (var docs = documents.documents()) {
            Iterator<CorpusDocument> it = docs.iterator();
            while (it.hasNext()) {
                CorpusDocument d = it.next();
                try {
                    sequences += FeatureDashboards.sequences(replacement, Corpus.of(List.of(d)), CorpusSlice.START,
                            options);
                } catch (CircuitTracerException e) {
                    // the chunker names the document by its number in this one-document corpus: keep its reason
                    Throwable reason = e.getCause() instanceof CircuitTracerException c ? c : e;
                    return List.of(new SliceCount(partition, count, sequences, code(e), reason.getMessage() + " ("
                            + documents.where() + ")", count)).iterator();
                }
                count++;
            }
        } catch (CircuitTracerException e) { // a malformed line: its message names the file and line
            return List.of(new SliceCount(partition, count, sequences, code(e), e.getMessage(), -1)).iterator();
        }
        return List.of(new SliceCount(partition, count, sequences, null, null, -1)).iterator();
    }

    private static String code(CircuitTracerException e) {
        return e.errorCode() == null ? null : e.errorCode().code();
    }
}
