package org.circuittracer.viewer.work;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.circuittracer.attribution.export.ExportOptions;
import org.circuittracer.attribution.export.GraphJsonExporter;
import org.circuittracer.attribution.intervention.Interventions;
import org.circuittracer.attribution.intervention.SteeredGeneration;
import org.circuittracer.attribution.replacement.PromptTokens;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.attribution.targets.TargetSpec;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.attribution.Attributor;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.Tokenizer;
import org.circuittracer.spi.model.TransformerModel;

/**
 * The workbench of a loaded model and transcoder set: attribution with the given attributor, export with
 * {@link GraphJsonExporter}, steering with {@link Interventions#generate}. The model and dictionary stay owned by the
 * caller.
 */
public final class ReplacementWorkbench implements ModelWorkbench {

    private final TransformerModel model;
    private final SparseDictionary dictionary;
    private final Attributor attributor;
    private final ReplacementModel replacement;

    public ReplacementWorkbench(TransformerModel model, SparseDictionary dictionary, Attributor attributor) {
        this.model = Objects.requireNonNull(model, "model");
        this.dictionary = Objects.requireNonNull(dictionary, "dictionary");
        this.attributor = Objects.requireNonNull(attributor, "attributor");
        this.replacement = ReplacementModel.of(model, dictionary);
    }

    @Override
    public WorkbenchInfo info() {
        return new WorkbenchInfo(model.config().modelName(), dictionary.scan(), model.config().layers());
    }

    @Override
    public GraphJsonExporter.Result createGraph(NewGraphRequest r, Path directory, AttributionListener listener) {
        Tokenizer tokenizer = model.tokenizer();
        String name = model.config().modelName();
        TokenSequence tokens = r.promptIds() != null
                ? PromptTokens.prepare(new TokenSequence(r.promptIds()), tokenizer, name)
                : PromptTokens.tokenize(r.prompt(), tokenizer, name);
        tokens.requireInVocabulary(tokenizer.vocabularySize());
        AttributionTargets targets = r.targets().isEmpty()
                ? new AttributionTargets.Salient(r.maxNLogits(), r.desiredLogitProb())
                : TargetSpec.resolve(r.targets(), model, "Target");
        AttributionRequest request = new AttributionRequest(model, dictionary, tokens, targets, r.maxFeatureNodes(),
                r.batchSize(), 4);
        AttributionGraph graph = attributor.attribute(request, listener);
        ExportOptions options = ExportOptions.of(r.slug(), ExportOptions.decodeEach(tokenizer, graph.tokens()))
                .withThresholds(r.nodeThreshold(), r.edgeThreshold())
                .withCreateTimeMs(System.currentTimeMillis());
        return GraphJsonExporter.export(graph, options, directory);
    }

    @Override
    public SteerResult steer(SteerRequest r) {
        try (NDManager manager = NDManager.newBaseManager()) {
            SteeredGeneration g = Interventions.generate(manager, replacement, new TokenSequence(r.tokens()),
                    r.interventions(), r.options(), r.maxNewTokens(), r.sampling(), r.topK());
            return new SteerResult(run(g.steered()), run(g.unsteered()));
        }
    }

    private SteerResult.Run run(SteeredGeneration.Run run) {
        Tokenizer tokenizer = model.tokenizer();
        List<SteerResult.Step> steps = new ArrayList<>();
        for (SteeredGeneration.TopLogits step : run.steps()) {
            List<SteerResult.Candidate> candidates = new ArrayList<>();
            int[] ids = step.tokenIds();
            float[] logits = step.logits();
            for (int k = 0; k < ids.length; k++) {
                double p = step.probability(k);
                candidates.add(new SteerResult.Candidate(decode(tokenizer, ids[k]), ids[k], logits[k],
                        Double.isFinite(p) ? p : null));
            }
            steps.add(new SteerResult.Step(decode(tokenizer, step.chosen()), step.chosen(), candidates));
        }
        return new SteerResult.Run(run.text(), run.continuation(), steps);
    }

    private static String decode(Tokenizer tokenizer, int id) {
        return tokenizer.decode(new int[] {id}, false);
    }
}
