package org.circuittracer.viewer.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.sse.SseClient;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.circuittracer.attribution.export.FeatureIds;
import org.circuittracer.attribution.intervention.Intervention;
import org.circuittracer.attribution.intervention.InterventionOptions;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.model.Positions;
import org.circuittracer.spi.model.Sampling;
import org.circuittracer.viewer.ViewerErrorCode;
import org.circuittracer.viewer.ViewerErrors;
import org.circuittracer.viewer.annotations.AnnotationStore;
import org.circuittracer.viewer.files.FeatureStore;
import org.circuittracer.viewer.graph.GraphExport;
import org.circuittracer.viewer.graph.FeaturesAcrossGraphs;
import org.circuittracer.viewer.graph.GraphStore;
import org.circuittracer.viewer.graph.SubgraphScores;
import org.circuittracer.viewer.graph.GraphView;
import org.circuittracer.viewer.graph.LoadedGraph;
import org.circuittracer.viewer.graph.NodeKind;
import org.circuittracer.viewer.graph.ViewRequest;
import org.circuittracer.viewer.work.ChatTurn;
import org.circuittracer.viewer.work.Job;
import org.circuittracer.viewer.work.JobRunner;
import org.circuittracer.viewer.work.NewGraphRequest;
import org.circuittracer.viewer.work.SteerRequest;

/** Our own routes under {@code /api}: graph views, annotations, feature details, new graphs and steering. */
final class ApiRoutes {

    /** Body limit of small requests (new graph, steering, subgraphs). */
    static final long SMALL_BODY = 256 * 1024;

    /** The exporter's logit label, {@code Output "TOKEN" (p=0.123)} (the token may itself hold quotes). */
    private static final Pattern LOGIT_CLERP = Pattern.compile("(?s)^Output \"(.*)\" \\(p=[^)]*\\)$");

    private final GraphStore graphs;
    private final AnnotationStore annotations;
    private final FeatureStore features;
    private final JobRunner jobs;
    private final long maxBody;
    private final FeaturesAcrossGraphs acrossGraphs;

    ApiRoutes(GraphStore graphs, AnnotationStore annotations, FeatureStore features, JobRunner jobs, long maxBody) {
        this.graphs = graphs;
        this.annotations = annotations;
        this.features = features;
        this.jobs = jobs;
        this.maxBody = maxBody;
        this.acrossGraphs = new FeaturesAcrossGraphs(graphs.directory());
    }

    void register(RoutesConfig routes) {
        routes.get("/api/status", this::status);
        routes.get("/api/graphs", ctx -> Http.json(ctx, Map.of("graphs", graphs.list())));
        routes.post("/api/graphs", this::createGraph);
        routes.get("/api/graphs/{slug}/view", this::view);
        routes.get("/api/graphs/{slug}/annotations", ctx -> Http.json(ctx, annotations.load(ctx.pathParam("slug"))));
        routes.put("/api/graphs/{slug}/annotations", ctx -> Http.json(ctx, annotations.save(ctx.pathParam("slug"),
                Http.jsonBody(ctx, maxBody))));
        routes.get("/api/graphs/{slug}/subgraphs", this::subgraphs);
        routes.post("/api/graphs/{slug}/subgraphs", ctx -> Http.json(ctx, 201, annotations.addSubgraph(
                ctx.pathParam("slug"), Http.jsonBody(ctx, SMALL_BODY))));
        routes.post("/api/graphs/{slug}/steer", this::steer);
        routes.get("/api/graphs/{slug}/scores", ctx -> {
            String p = ctx.queryParam("pinnedIds");
            List<String> pinned = p == null || p.isBlank() ? List.of() : Arrays.asList(p.split(","));
            Http.json(ctx, SubgraphScores.compute(graphs.load(ctx.pathParam("slug")), pinned));
        });
        routes.post("/api/graphs/{slug}/scores", ctx -> {
            JsonNode b = Http.jsonBody(ctx, maxBody);
            JsonNode pins = b.path("pinnedIds");
            if (!pins.isArray()) {
                throw ViewerErrors.badRequest("\"pinnedIds\" must be an array of node ids.");
            }
            List<String> pinned = new ArrayList<>();
            pins.forEach(n -> pinned.add(n.asText()));
            Http.json(ctx, SubgraphScores.compute(graphs.load(ctx.pathParam("slug")), pinned));
        });
        routes.post("/api/graphs/{slug}/export", ctx -> {
            JsonNode b = Http.jsonBody(ctx, maxBody);
            ObjectNode out = GraphExport.build(graphs.load(ctx.pathParam("slug")), b);
            String name = out.path("metadata").path("slug").asText("graph").replaceAll("[^A-Za-z0-9._-]", "_");
            ctx.header("Content-Disposition", "attachment; filename=\"" + name + ".json\"");
            Http.json(ctx, out);
        });
        routes.get("/api/features/{feature}", this::feature);
        routes.get("/api/features-across-graphs", ctx -> Http.json(ctx, acrossGraphs.load()));
        routes.get("/api/jobs/{id}", ctx -> Http.json(ctx, describe(job(ctx))));
        routes.delete("/api/jobs/{id}", ctx -> {
            Job job = job(ctx);
            job.cancel();
            Http.json(ctx, 202, describe(job));
        });
        routes.before("/api/jobs/{id}/events", this::job);
        routes.sse("/api/jobs/{id}/events", this::events);
    }

    private void status(Context ctx) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("service", "circuit-tracer viewer");
        s.put("features", features == null ? null : Map.of("layout", features.packed() ? "packed" : "per-feature"));
        s.put("model", jobs == null ? null : jobs.workbench().info());
        s.put("maxBodyBytes", maxBody);
        s.put("featuresAcrossGraphs", acrossGraphs.exists());
        Http.json(ctx, s);
    }

    private void view(Context ctx) {
        LoadedGraph g = graphs.load(ctx.pathParam("slug"));
        Set<String> keep = new HashSet<>();
        String k = ctx.queryParam("keep");
        if (k != null && !k.isBlank()) {
            keep.addAll(Arrays.asList(k.split(",")));
        }
        ViewRequest r = new ViewRequest(Http.number(ctx, "pruningThreshold", 0, 1),
                Http.number(ctx, "densityThreshold", 0, 1),
                Http.integer(ctx, "maxNodes", ViewRequest.DEFAULT_MAX_NODES),
                Http.integer(ctx, "maxLinks", ViewRequest.DEFAULT_MAX_LINKS), keep);
        Http.json(ctx, GraphView.compute(g, r, features));
    }

    private void subgraphs(Context ctx) {
        ObjectNode doc = annotations.load(ctx.pathParam("slug"));
        Http.json(ctx, Map.of("version", doc.path("version").asLong(), "subgraphs", doc.get("subgraphs")));
    }

    private void feature(Context ctx) {
        if (features == null) {
            throw ViewerErrors.notFound("This server has no features directory, so no feature details; start it with "
                    + "one.");
        }
        long z;
        try {
            z = Long.parseLong(ctx.pathParam("feature"));
        } catch (NumberFormatException e) {
            throw ViewerErrors.badRequest("'" + ctx.pathParam("feature") + "' is not a feature id; give the node's "
                    + "\"feature\" number.");
        }
        byte[] json = features.featureJson(z).orElseThrow(() -> ViewerErrors.notFound("No details for feature " + z
                + " in the features directory."));
        Http.send(ctx, 200, "application/json", json);
    }

    private void createGraph(Context ctx) {
        JobRunner runner = requireModel();
        JsonNode b = Http.jsonBody(ctx, SMALL_BODY);
        int[] ids = null;
        if (b.hasNonNull("promptIds")) {
            JsonNode a = b.get("promptIds");
            if (!a.isArray()) {
                throw ViewerErrors.badRequest("\"promptIds\" must be an array of token ids.");
            }
            ids = new int[a.size()];
            for (int i = 0; i < ids.length; i++) {
                if (!a.get(i).canConvertToInt() || a.get(i).asInt() < 0) {
                    throw ViewerErrors.badRequest("\"promptIds\" must hold non-negative integers, got " + a.get(i) + ".");
                }
                ids[i] = a.get(i).asInt();
            }
        }
        NewGraphRequest r = new NewGraphRequest(text(b, "prompt", null), ids, text(b, "slug", null),
                integer(b, "maxNLogits", 10), number(b, "desiredLogitProb", 0.95), integer(b, "maxFeatureNodes", 7500),
                integer(b, "batchSize", 256), number(b, "nodeThreshold", 0.8), number(b, "edgeThreshold", 0.98),
                targets(b), chat(b));
        // a target that is not a token (or a difference of two) is the request's fault: say so now, not in a job
        runner.workbench().checkTargets(r.targets());
        runner.workbench().checkPrompt(r); // the same for a prompt past the context or of special tokens only
        boolean overwrite = b.path("overwrite").asBoolean(false);
        Runnable checkFree = () -> {
            if (!overwrite && Files.exists(graphs.directory().root().resolve(r.slug() + ".json"))) {
                throw new CircuitTracerException(ViewerErrorCode.CONFLICT, "A graph '" + r.slug() + "' already exists; "
                        + "choose another name or ask to overwrite it.");
            }
        };
        checkFree.run();
        Job job = runner.createGraph(r, graphs.directory().root(), checkFree);
        Map<String, Object> out = new LinkedHashMap<>(describe(job));
        out.put("events", "/api/jobs/" + job.id() + "/events");
        Http.json(ctx, 202, out);
    }

    private void steer(Context ctx) {
        JobRunner runner = requireModel();
        LoadedGraph g = graphs.load(ctx.pathParam("slug"));
        JsonNode b = Http.jsonBody(ctx, SMALL_BODY);
        JsonNode list = b.get("interventions");
        if (list == null || !list.isArray()) {
            throw ViewerErrors.badRequest("\"interventions\" must be an array of {nodeId, mode, value}.");
        }
        List<Intervention> interventions = new ArrayList<>();
        for (JsonNode i : list) {
            interventions.add(intervention(g, i));
        }
        boolean freeze = b.path("freezeAttention").asBoolean(true);
        InterventionOptions options = freeze ? InterventionOptions.defaults() : InterventionOptions.free();
        double temperature = number(b, "temperature", 0);
        Sampling sampling = temperature == 0 ? Sampling.greedy()
                : new Sampling(temperature, 0, 1, b.path("seed").asLong(0));
        SteerRequest r = new SteerRequest(g.promptTokenIds(), interventions, options, integer(b, "maxNewTokens", 12),
                sampling, integer(b, "topK", 5), target(g));
        Http.json(ctx, runner.runExclusive(() -> runner.workbench().steer(r)));
    }

    /** The graph's target logit: the node marked {@code is_target_logit}, else the most probable logit; or null. */
    private static SteerRequest.Target target(LoadedGraph g) {
        int best = -1;
        for (int i = 0; i < g.nodeCount(); i++) {
            if (g.kind(i) != NodeKind.LOGIT) {
                continue;
            }
            ObjectNode n = g.node(i);
            if (n.path("is_target_logit").asBoolean(false)) {
                best = i;
                break;
            }
            if (best < 0 || n.path("token_prob").asDouble(0) > g.node(best).path("token_prob").asDouble(0)) {
                best = i;
            }
        }
        if (best < 0 || !g.node(best).path("feature").canConvertToLong()) {
            return null;
        }
        ObjectNode n = g.node(best);
        String clerp = n.path("clerp").asText("");
        Matcher m = LOGIT_CLERP.matcher(clerp);
        return new SteerRequest.Target(n.path("feature").asLong(), m.matches() ? m.group(1) : clerp);
    }

    /** {@code {nodeId, mode: "scale"|"set", value, openEnded}} on a feature node of the graph. */
    private static Intervention intervention(LoadedGraph g, JsonNode i) {
        String id = i.path("nodeId").asText("");
        int index = g.indexOf(id);
        if (index < 0) {
            throw ViewerErrors.badRequest("Node '" + id + "' is not in graph '" + g.slug() + "'.");
        }
        if (g.kind(index) != NodeKind.FEATURE) {
            throw ViewerErrors.badRequest("Node '" + id + "' is " + g.node(index).path("feature_type").asText()
                    + "; only transcoder features can be steered.");
        }
        ObjectNode node = g.node(index);
        FeatureIds.LayerIndex li = FeatureIds.unpair(node.path("feature").asLong(-1));
        if (!node.path("layer").asText().equals(Integer.toString(li.layer()))) {
            throw ViewerErrors.badRequest("Node '" + id + "' has layer " + node.path("layer").asText() + " but its "
                    + "feature id decodes to layer " + li.layer() + " (schema_version 1 ids are needed to steer).");
        }
        int position = node.path("ctx_idx").asInt();
        JsonNode v = i.get("value");
        if (v == null || !v.isNumber()) {
            throw ViewerErrors.badRequest("The intervention on '" + id + "' needs a numeric \"value\".");
        }
        Positions positions = i.path("openEnded").asBoolean(false) ? Positions.from(position) : Positions.at(position);
        String mode = i.path("mode").asText("scale");
        return switch (mode) {
            case "scale" -> Intervention.scale(li.layer(), positions, (int) li.index(), v.asDouble());
            case "set" -> Intervention.set(li.layer(), positions, (int) li.index(), v.asDouble());
            default -> throw ViewerErrors.badRequest("The mode of the intervention on '" + id + "' must be \"scale\" "
                    + "or \"set\", got \"" + mode + "\".");
        };
    }

    private void events(SseClient client) {
        Job job = jobs.job(client.ctx().pathParam("id")).orElseThrow();
        client.keepAlive();
        AtomicReference<Consumer<Job.Event>> self = new AtomicReference<>();
        self.set(e -> {
            if (client.terminated()) {
                job.unsubscribe(self.get());
                return;
            }
            try {
                client.sendEvent(e.type(), Http.JSON.writeValueAsString(e.data()));
            } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
                client.sendEvent(e.type(), "{}");
            }
            if (job.state().finished() && isFinal(e.type())) {
                client.close();
            }
        });
        client.onClose(() -> job.unsubscribe(self.get()));
        job.subscribe(self.get());
    }

    private static boolean isFinal(String type) {
        return type.equals("done") || type.equals("failed") || type.equals("cancelled");
    }

    private Job job(Context ctx) {
        if (jobs == null) {
            throw ViewerErrors.notFound("No job '" + ctx.pathParam("id") + "': this server has no model.");
        }
        return jobs.job(ctx.pathParam("id")).orElseThrow(() -> ViewerErrors.notFound("No job '" + ctx.pathParam("id")
                + "'."));
    }

    private static Map<String, Object> describe(Job job) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", job.id());
        m.put("kind", job.kind());
        m.put("state", job.state().name().toLowerCase(java.util.Locale.ROOT));
        List<Job.Event> events = job.events();
        m.put("last", events.isEmpty() ? null : events.get(events.size() - 1));
        return m;
    }

    private JobRunner requireModel() {
        if (jobs == null) {
            throw new CircuitTracerException(ViewerErrorCode.NO_MODEL, "This server runs without a model, so it cannot "
                    + "create graphs or steer. Start it with a model and transcoders.");
        }
        return jobs;
    }

    /** {@code targets}: an array of strings, or one string of comma-separated targets. */
    private static List<String> targets(JsonNode b) {
        JsonNode v = b.get("targets");
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (v.isTextual()) {
            return Arrays.asList(v.asText().split(","));
        }
        if (!v.isArray()) {
            throw ViewerErrors.badRequest("\"targets\" must be an array of strings (tokens such as \"Austin\" or "
                    + "\"#1234\", or logit differences \"Austin-Dallas\").");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode t : v) {
            if (!t.isTextual()) {
                throw ViewerErrors.badRequest("\"targets\" must hold strings, got " + t + ".");
            }
            out.add(t.asText());
        }
        return out;
    }

    /** {@code chat}: an array of {@code {role, content}} messages, or absent. */
    private static List<ChatTurn> chat(JsonNode b) {
        JsonNode v = b.get("chat");
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isArray()) {
            throw ViewerErrors.badRequest("\"chat\" must be an array of {\"role\", \"content\"} messages.");
        }
        if (v.size() > NewGraphRequest.MAX_CHAT_MESSAGES) { // before reading them all
            throw ViewerErrors.badRequest("The chat has " + v.size() + " messages; at most "
                    + NewGraphRequest.MAX_CHAT_MESSAGES + ".");
        }
        List<ChatTurn> out = new ArrayList<>();
        for (JsonNode m : v) {
            if (!m.isObject()) {
                throw ViewerErrors.badRequest("Chat message " + (out.size() + 1) + " must be an object {\"role\", "
                        + "\"content\"}, got " + m + ".");
            }
            out.add(new ChatTurn(text(m, "role", null), text(m, "content", null)));
        }
        return out;
    }

    private static String text(JsonNode b, String field, String fallback) {
        JsonNode v = b.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isTextual()) {
            throw ViewerErrors.badRequest("\"" + field + "\" must be a string.");
        }
        return v.asText();
    }

    private static int integer(JsonNode b, String field, int fallback) {
        JsonNode v = b.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw ViewerErrors.badRequest("\"" + field + "\" must be an integer, got " + v + ".");
        }
        return v.asInt();
    }

    private static double number(JsonNode b, String field, double fallback) {
        JsonNode v = b.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw ViewerErrors.badRequest("\"" + field + "\" must be a number, got " + v + ".");
        }
        return v.asDouble();
    }
}
