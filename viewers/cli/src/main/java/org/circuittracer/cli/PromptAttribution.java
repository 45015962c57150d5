package org.circuittracer.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.circuittracer.attribution.attention.GraphHeadLoadings;
import org.circuittracer.attribution.attention.HeadLoadingPass;
import org.circuittracer.attribution.attention.QkLinks;
import org.circuittracer.attribution.attention.QkPass;
import org.circuittracer.attribution.export.ExportOptions;
import org.circuittracer.attribution.export.HeadLoadingExport;
import org.circuittracer.attribution.export.QkJson;
import org.circuittracer.attribution.export.FeatureIds;
import org.circuittracer.attribution.export.GraphIndex;
import org.circuittracer.attribution.export.GraphJsonExporter;
import org.circuittracer.attribution.graphfile.GraphFile;
import org.circuittracer.attribution.io.AtomicFiles;
import org.circuittracer.attribution.replacement.PromptTokens;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.attribution.Attributor;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.QkQuery;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;

/**
 * The one-prompt pipeline of {@code attribute}, for the command and for batch jobs: tokenize, attribute, save the
 * graph file, write the viewer JSON (and, unless a batch driver does it, the directory's index). Nothing here prints;
 * warnings go to the caller.
 */
public final class PromptAttribution {

    /** How many top logits and most influential features a {@link Result} reports. */
    public static final int SUMMARY_ENTRIES = 10;

    /** The name ending of our graph files, as {@code export} reads them. */
    public static final String GRAPH_FILE_SUFFIX = ExportCommand.GRAPH_FILE_SUFFIX;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final TransformerModel model;
    private final SparseDictionary dictionary;
    private final Attributor attributor;

    public PromptAttribution(TransformerModel model, SparseDictionary dictionary, Attributor attributor) {
        this.model = model;
        this.dictionary = dictionary;
        this.attributor = attributor;
    }

    /**
     * How every prompt of a run is attributed and pruned (the options of {@code attribute}); serializable so that batch
     * jobs can ship it to their workers.
     *
     * @param headLoadings the heads per layer to store on each kept link ({@code --head-loadings}), 0 for none
     * @param qk           the terms per list of QK attribution on the strongest links ({@code --qk}), 0 for none
     * @param qkLinks      how many links QK attribution explains ({@code --qk-links})
     */
    public record Settings(int maxNLogits, double desiredLogitProb, int maxFeatureNodes, int batchSize,
                           double nodeThreshold, double edgeThreshold, boolean strictNodeIds, int headLoadings,
                           int qk, int qkLinks)
            implements java.io.Serializable {

        /** The links QK attribution explains unless told otherwise. */
        public static final int DEFAULT_QK_LINKS = 10;

        /** Without head loadings. */
        public Settings(int maxNLogits, double desiredLogitProb, int maxFeatureNodes, int batchSize,
                        double nodeThreshold, double edgeThreshold, boolean strictNodeIds) {
            this(maxNLogits, desiredLogitProb, maxFeatureNodes, batchSize, nodeThreshold, edgeThreshold, strictNodeIds,
                    0, 0, DEFAULT_QK_LINKS);
        }

        public Settings {
            if (headLoadings < 0) {
                throw CircuitTracerException.invalidArgument("--head-loadings takes the number of heads per layer to "
                        + "keep on each link (at least 1); got " + headLoadings + ".");
            }
            if (qk < 0 || qkLinks < 1) {
                throw CircuitTracerException.invalidArgument("--qk takes the number of terms to list (at least 1) and "
                        + "--qk-links the number of links to explain (at least 1); got " + qk + " and " + qkLinks + ".");
            }
        }

        /** Head loadings are computed for QK attribution too (3 per layer written unless asked otherwise). */
        int headsToWrite() {
            return headLoadings > 0 ? headLoadings : qk > 0 ? 3 : 0;
        }
    }

    /**
     * One prompt's job.
     *
     * @param text            the prompt text, or null when {@code ids} is given
     * @param ids             token ids used verbatim (a special token is prepended when needed), or null
     * @param slug            the graph's file-safe name
     * @param targets         {@code --target} values, or null for the most likely next tokens
     * @param graphDirectory  where {@code SLUG.json} goes
     * @param graphFile       where the unpruned graph file goes, or null for none
     * @param updateIndex     whether to add the graph to {@code graphDirectory/graph-metadata.json} (a batch driver
     *                        writes the index once instead, as parallel tasks must not race on it)
     * @param exportArguments extra words for the {@code export} command named when the viewer JSON cannot be written
     * @param templatePositions positions of {@code ids} that a chat template wrote (turn markers, role names), recorded
     *                          as {@code metadata.template_positions} so that the viewer can dim them; empty otherwise
     */
    public record Request(String text, int[] ids, String slug, List<String> targets, Settings settings,
                          Path graphDirectory, Path graphFile, boolean updateIndex, List<String> exportArguments,
                          List<Integer> templatePositions) {

        /** A plain prompt (no chat template). */
        public Request(String text, int[] ids, String slug, List<String> targets, Settings settings,
                       Path graphDirectory, Path graphFile, boolean updateIndex, List<String> exportArguments) {
            this(text, ids, slug, targets, settings, graphDirectory, graphFile, updateIndex, exportArguments, List.of());
        }

        public Request {
            templatePositions = List.copyOf(templatePositions);
            if ((text == null) == (ids == null)) {
                throw new IllegalArgumentException("give exactly one of text and ids");
            }
            ids = ids == null ? null : ids.clone();
            targets = targets == null ? null : List.copyOf(targets);
            exportArguments = List.copyOf(exportArguments);
        }

        @Override
        public int[] ids() {
            return ids == null ? null : ids.clone();
        }
    }

    /** A computed graph and what went into it. */
    public record Attributed(AttributionGraph graph, TokenSequence tokens, double attributionSeconds) {
    }

    /** A top logit: the decoded token and its probability. */
    public record TopLogit(String token, double probability) {
    }

    /** A feature of the pruned graph, with its cumulative influence as the viewer JSON gives it (lower = stronger). */
    public record GraphFeature(int layer, int feature, double influence) implements java.io.Serializable {
    }

    /**
     * What a run wrote and measured.
     *
     * @param export                 the viewer JSON's file, index (null when not updated), counts, scores, warnings
     * @param metadata               the graph's index entry ({@code metadata} of its JSON)
     * @param graphFile              the saved graph file, or null when none was asked for or it could not be written
     * @param saveGraphFileSeconds   NaN when no graph file was asked for
     */
    public record Result(Attributed attributed, GraphJsonExporter.Result export, ObjectNode metadata, Path graphFile,
                         List<TopLogit> topLogits, List<GraphFeature> features, double saveGraphFileSeconds,
                         double exportSeconds) {
        public Result {
            topLogits = List.copyOf(topLogits);
            features = List.copyOf(features);
        }

        /** The {@value #SUMMARY_ENTRIES} most influential of {@link #features()}. */
        public List<GraphFeature> topFeatures() {
            return features.subList(0, Math.min(SUMMARY_ENTRIES, features.size()));
        }
    }

    /** {@link #attribute} then {@link #write}. */
    public Result run(Request request, AttributionListener listener, Consumer<String> warnings) {
        return write(attribute(request, listener), request, warnings);
    }

    /** Tokenizes the prompt (refusing bad input with INVALID_ARGUMENT before any forward pass) and attributes it. */
    public Attributed attribute(Request request, AttributionListener listener) {
        TokenSequence tokens = tokens(model, request.text(), request.ids);
        if (onlySpecialTokens(tokens, model)) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The prompt (token ids "
                    + Arrays.toString(tokens.ids()) + ") holds no token besides special ones, so there is nothing to "
                    + "attribute (features at the first position are not attributed); add the tokens to explain after "
                    + "it with --prompt-ids, or give --prompt text.");
        }
        Settings settings = request.settings();
        AttributionTargets chosen = chosenTargets(request);
        AttributionRequest attribution = new AttributionRequest(model, dictionary, tokens, chosen,
                settings.maxFeatureNodes(), settings.batchSize(), 4);
        long t = System.nanoTime();
        AttributionGraph graph = attributor.attribute(attribution, listener);
        return new Attributed(graph, tokens, seconds(System.nanoTime() - t));
    }

    private AttributionTargets chosenTargets(Request request) {
        Settings settings = request.settings();
        return request.targets() != null ? TargetSpec.resolve(request.targets(), model)
                : new AttributionTargets.Salient(settings.maxNLogits(), settings.desiredLogitProb());
    }

    /**
     * Saves what was computed: the graph file first (a failure there is a warning), then the viewer JSON; when that
     * fails, the graph is saved somewhere (unless it already was) and the error names the {@code export} command that
     * finishes the job without recomputing.
     */
    public Result write(Attributed attributed, Request request, Consumer<String> warnings) {
        AttributionGraph graph = attributed.graph();
        // The graph is computed: from here on nothing may lose it. The lossless graph file goes first, so a
        // problem with the viewer JSON below can always be fixed from it without recomputing.
        Path savedGraphFile = null;
        double saveSeconds = Double.NaN;
        if (request.graphFile() != null) {
            long t = System.nanoTime();
            try {
                saveGraphFile(graph, request.graphFile());
                savedGraphFile = request.graphFile();
            } catch (IOException | CircuitTracerException e) {
                warnings.accept("warning: could not save the graph file " + request.graphFile() + " (" + e.getMessage()
                        + "); the viewer JSON is written all the same. Check the path and its permissions.");
            }
            saveSeconds = seconds(System.nanoTime() - t);
        }
        long t = System.nanoTime();
        ExportOptions options = ExportOptions.of(request.slug(), ExportOptions.decodeEach(model.tokenizer(),
                        graph.tokens()))
                .withThresholds(request.settings().nodeThreshold(), request.settings().edgeThreshold())
                .withStrictNodeIds(request.settings().strictNodeIds())
                .withCreateTimeMs(System.currentTimeMillis());
        String[] headFailure = new String[1];
        List<GraphHeadLoadings> heads = new ArrayList<>(1);
        if (request.settings().headsToWrite() > 0) {
            options = options.withHeadLoadings(headLoadings(graph, request, headFailure, heads));
        }
        GraphJsonExporter.Built built;
        GraphJsonExporter.Result result;
        try {
            built = GraphJsonExporter.build(graph, options);
            if (request.settings().qk() > 0 && !heads.isEmpty()) {
                explainAttention(built.json(), graph, heads.get(0), request.settings(), warnings);
            }
            if (!request.templatePositions().isEmpty()) {
                var positions = ((ObjectNode) built.json().get("metadata")).putArray("template_positions");
                request.templatePositions().forEach(positions::add);
            }
            result = writeJson(built, request);
        } catch (CircuitTracerException e) {
            throw rescue(e, graph, request, savedGraphFile);
        }
        if (headFailure[0] != null) {
            warnings.accept("warning: the graph JSON was written without head loadings, which could not be computed: "
                    + headFailure[0]);
        }
        if (savedGraphFile != null && !heads.isEmpty()) {
            // the graph file was saved before the links were chosen: again, now with their head loadings
            try {
                GraphFile.save(graph, new GraphFile.StoredHeadLoadings(heads.get(0),
                        request.settings().headsToWrite()), savedGraphFile);
            } catch (CircuitTracerException e) {
                warnings.accept("warning: the graph file " + savedGraphFile + " keeps no head loadings (" + e.getMessage()
                        + "); the graph JSON has them.");
            }
        }
        ObjectNode metadata = (ObjectNode) built.json().get("metadata");
        return new Result(attributed, result, metadata, savedGraphFile, topLogits(graph), features(built.json()),
                saveSeconds, seconds(System.nanoTime() - t));
    }

    /**
     * QK attribution of the strongest links that cross positions, each through its strongest head, written on the
     * links; a failure is a warning (the graph is written without it).
     */
    private void explainAttention(ObjectNode json, AttributionGraph graph, GraphHeadLoadings heads, Settings settings,
                                  Consumer<String> warnings) {
        List<QkLinks.Choice> choices = QkLinks.choose(graph, heads, settings.qkLinks());
        if (choices.isEmpty()) {
            warnings.accept("warning: no kept link crosses positions through a head, so there is no attention score "
                    + "to explain (--qk).");
            return;
        }
        int[] nodes = java.util.stream.IntStream.concat(Arrays.stream(heads.targets()), Arrays.stream(heads.sources()))
                .distinct().filter(n -> !(graph.nodes().get(n) instanceof Node.LogitNode)).sorted().toArray();
        try {
            // links that share a head and positions share one split
            List<QkQuery> distinct = choices.stream().map(QkLinks.Choice::query).distinct().toList();
            List<QkPass.GraphQk> computed = new QkPass(model, dictionary).compute(graph, nodes, distinct);
            List<QkPass.GraphQk> results = choices.stream()
                    .map(c -> computed.get(distinct.indexOf(c.query()))).toList();
            QkJson.annotate(json, graph, choices, results, settings.qk());
        } catch (CircuitTracerException | OutOfMemoryError e) {
            warnings.accept("warning: the graph JSON was written without QK attribution, which could not be computed: "
                    + e.getMessage());
        }
    }

    /**
     * The kept links' split over heads, computed when the exporter has chosen them. A failure there must not lose the
     * graph: it is recorded in {@code failure[0]} and the graph is exported without head loadings.
     */
    private HeadLoadingExport headLoadings(AttributionGraph graph, Request request, String[] failure,
                                           List<GraphHeadLoadings> computed) {
        AttributionTargets targets = chosenTargets(request);
        HeadLoadingPass pass = new HeadLoadingPass(model, dictionary);
        return new HeadLoadingExport(request.settings().headsToWrite(), (t, s) -> {
            try {
                GraphHeadLoadings heads = pass.compute(graph, t, s, targets);
                computed.add(heads);
                return heads;
            } catch (CircuitTracerException | OutOfMemoryError e) {
                failure[0] = e.getMessage();
                return null;
            }
        });
    }

    /** {@code SLUG.json} (atomically) and, when asked, its index entry: what {@link GraphJsonExporter#export} does. */
    private static GraphJsonExporter.Result writeJson(GraphJsonExporter.Built built, Request request) {
        Path file = request.graphDirectory().resolve(request.slug() + ".json");
        try {
            AtomicFiles.write(file, JSON.writeValueAsBytes(built.json()));
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Cannot serialise graph '" + request.slug()
                    + "': " + e.getMessage(), e);
        }
        Path index = request.updateIndex()
                ? GraphIndex.upsert(request.graphDirectory(), (ObjectNode) built.json().get("metadata")) : null;
        return new GraphJsonExporter.Result(file, index, built.json().get("nodes").size(),
                built.json().get("links").size(), built.renamed(), built.warnings(), built.scores());
    }

    private static CircuitTracerException rescue(CircuitTracerException e, AttributionGraph graph, Request request,
                                                 Path savedGraphFile) {
        Path saved = savedGraphFile != null ? savedGraphFile : rescue(graph, request);
        if (saved == null) {
            return e; // nothing could be written anywhere; the message says why
        }
        List<String> words = new ArrayList<>(List.of("circuit-tracer", "export", saved.toString()));
        if (!request.slug().equals(AttributeCommand.defaultSlugOf(saved))) {
            words.addAll(List.of("--slug", request.slug()));
        }
        words.addAll(List.of("--graph-file-dir", request.graphDirectory().toString()));
        words.addAll(request.exportArguments());
        String how = " The computed graph is saved in " + saved + "; after fixing that, write the viewer JSON from it "
                + "without recomputing: " + Viewing.shellCommand(words);
        return new CircuitTracerException(e.errorCode(), e.getMessage() + how, e);
    }

    /** Saves the graph next to the graph directory's JSON, or in the temporary directory; null if neither works. */
    private static Path rescue(AttributionGraph graph, Request request) {
        String name = request.slug();
        List<Path> candidates = new ArrayList<>();
        candidates.add(request.graphDirectory().resolve(name + ExportCommand.GRAPH_FILE_SUFFIX));
        candidates.add(Path.of(System.getProperty("java.io.tmpdir"), "circuit-tracer-" + name + "-"
                + System.currentTimeMillis() + ExportCommand.GRAPH_FILE_SUFFIX));
        for (Path candidate : candidates) {
            try {
                saveGraphFile(graph, candidate);
                return candidate;
            } catch (IOException | RuntimeException ignored) {
                // try the next place
            }
        }
        return null;
    }

    /** Writes the graph file, creating its directory. */
    static void saveGraphFile(AttributionGraph graph, Path file) throws IOException {
        if (file.toAbsolutePath().getParent() != null) {
            Files.createDirectories(file.toAbsolutePath().getParent());
        }
        GraphFile.save(graph, file);
    }

    /**
     * The prompt as the model's tokens (special-token rules applied), checked against the vocabulary and the model's
     * context before any forward pass: text that tokenizes to nothing is refused. Exactly one of text and ids is given.
     */
    public static TokenSequence tokens(TransformerModel model, String text, int[] ids) {
        String modelName = model.config().modelName();
        TokenSequence tokens = ids != null
                ? PromptTokens.prepare(new TokenSequence(ids), model.tokenizer(), modelName)
                : PromptTokens.tokenize(text, model.tokenizer(), modelName);
        tokens.requireInVocabulary(model.tokenizer().vocabularySize());
        if (text != null && onlySpecialTokens(tokens, model)) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The prompt \"" + shorten(text)
                    + "\" tokenizes to no token (only the special token a prompt starts with); give text that the "
                    + "model's tokenizer reads, or token ids with --prompt-ids.");
        }
        int max = model.config().maxPositions();
        if (tokens.length() > max) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The prompt has " + tokens.length()
                    + " tokens (the special token at its start included), more than the " + max + " positions of "
                    + "model '" + modelName + "'; shorten it to at most " + max + " tokens.");
        }
        return tokens;
    }

    /** Whether every token is a special token (BOS and the like): nothing to attribute or explain. */
    static boolean onlySpecialTokens(TokenSequence tokens, TransformerModel model) {
        for (int id : tokens.ids()) {
            if (!model.tokenizer().specialTokenIds().contains(id)) {
                return false;
            }
        }
        return true;
    }

    private static String shorten(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "…";
    }

    private static List<TopLogit> topLogits(AttributionGraph graph) {
        return graph.logits().stream().limit(SUMMARY_ENTRIES)
                .map(l -> new TopLogit(l.label(), l.weight())).toList();
    }

    /** The name {@code attribute} gives a graph of {@code text} without {@code --slug}. */
    public static String defaultSlug(String text) {
        return AttributeCommand.defaultSlug(text);
    }

    /** The kept feature nodes of a viewer graph JSON, most influential first, one entry per (layer, feature). */
    public static List<GraphFeature> features(JsonNode json) {
        List<GraphFeature> all = new ArrayList<>();
        for (JsonNode node : json.get("nodes")) {
            if (GraphJsonExporter.FEATURE.equals(node.path("feature_type").asText()) && node.path("influence").isNumber()) {
                String[] id = node.path("node_id").asText().split("_");
                all.add(new GraphFeature(Integer.parseInt(id[0]), Integer.parseInt(id[1]),
                        node.path("influence").asDouble()));
            }
        }
        all.sort(Comparator.comparingDouble(GraphFeature::influence));
        Set<Long> seen = new HashSet<>();
        return all.stream().filter(f -> seen.add(FeatureIds.pair(f.layer(), f.feature()))).toList();
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
