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
import org.circuittracer.viewer.ViewerErrors;
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
        TokenSequence tokens = tokens(r);
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
    public void checkPrompt(NewGraphRequest r) {
        tokens(r);
    }

    /** The request's prompt as tokens, checked: in the vocabulary, within the context, not only special tokens. */
    private TokenSequence tokens(NewGraphRequest r) {
        Tokenizer tokenizer = model.tokenizer();
        String name = model.config().modelName();
        if (r.chat() != null) { // chat templates are applied by the command line's workbench, which wraps this one
            throw ViewerErrors.badRequest("This server cannot make a graph from a chat with model '" + name + "' (no "
                    + "chat template is loaded); give a plain prompt instead.");
        }
        TokenSequence tokens = r.promptIds() != null
                ? PromptTokens.prepare(new TokenSequence(r.promptIds()), tokenizer, name)
                : PromptTokens.tokenize(r.prompt(), tokenizer, name);
        tokens.requireInVocabulary(tokenizer.vocabularySize());
        if (java.util.Arrays.stream(tokens.ids()).allMatch(tokenizer.specialTokenIds()::contains)) {
            throw ViewerErrors.badRequest("The prompt holds no token besides special ones (unknown words only?), so "
                    + "there is nothing to attribute; give text that the model's tokenizer reads.");
        }
        int max = model.config().maxPositions();
        if (tokens.length() > max) {
            throw ViewerErrors.badRequest("The prompt has " + tokens.length() + " tokens, more than the " + max
                    + " positions of the model; shorten it to at most " + max + " tokens.");
        }
        return tokens;
    }

    @Override
    public void checkTargets(List<String> targets) {
        if (!targets.isEmpty()) {
            TargetSpec.check(targets, model, "Target");
        }
    }

    @Override
    public SteerResult steer(SteerRequest r) {
        int[] watch = r.target() == null ? new int[0] : targetTokens(r.target());
        try (NDManager manager = NDManager.newBaseManager()) {
            SteeredGeneration g = Interventions.generate(manager, replacement, new TokenSequence(r.tokens()),
                    r.interventions(), r.options(), r.maxNewTokens(), r.sampling(), r.topK(), watch);
            SteerResult.TargetChange target = watch.length == 0 || g.steered().steps().isEmpty()
                    || g.unsteered().steps().isEmpty() ? null
                    : new SteerResult.TargetChange(watch.length == 1 ? "token" : "difference", r.target().label(),
                            java.util.Arrays.stream(watch).boxed().toList(),
                            measure(g.unsteered().steps().get(0), watch), measure(g.steered().steps().get(0), watch));
            return new SteerResult(run(g.steered()), run(g.unsteered()), target);
        }
    }

    /**
     * The tokens a target logit node stands for: its token, or for a logit difference (a custom target, whose index
     * lies past the vocabulary) the two tokens its label {@code A − B} names (TargetSpec writes token texts there);
     * none when the label names no such pair.
     */
    private int[] targetTokens(SteerRequest.Target t) {
        Tokenizer tokenizer = model.tokenizer();
        int vocabulary = model.config().vocabularySize();
        if (t.vocabIndex() >= 0 && t.vocabIndex() < vocabulary) {
            return new int[] {(int) t.vocabIndex()};
        }
        String label = t.label() == null ? "" : t.label();
        for (int i = label.indexOf(" \u2212 "); i >= 0; i = label.indexOf(" \u2212 ", i + 1)) {
            int a = tokenWithText(tokenizer, label.substring(0, i));
            int b = tokenWithText(tokenizer, label.substring(i + 3));
            if (a >= 0 && b >= 0) {
                return new int[] {a, b};
            }
        }
        return new int[0];
    }

    private static int tokenWithText(Tokenizer tokenizer, String text) {
        for (int id = 0; id < tokenizer.vocabularySize(); id++) {
            if (text.equals(tokenizer.tokenText(id))) {
                return id;
            }
        }
        return -1;
    }

    private static SteerResult.Measure measure(SteeredGeneration.TopLogits step, int[] watch) {
        if (watch.length == 2) {
            return new SteerResult.Measure(step.watchedLogit(watch[0]) - step.watchedLogit(watch[1]), null);
        }
        double p = step.watchedProbability(watch[0]);
        return new SteerResult.Measure(step.watchedLogit(watch[0]), Double.isFinite(p) ? p : null);
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
