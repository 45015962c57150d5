package org.circuittracer.transcoders.common;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.site.SiteKind;

/**
 * The {@code config.yaml} of a reference transcoder directory (docs/reference/algorithm.md §8.2), as circuit-tracer 0.5
 * and its users write it: by hand in the key order of the docs, or by its cache ({@code yaml.dump} of a dict: keys
 * sorted, {@code revision: null}). A YAML {@code null} is an absent key. Keys this build does not use (the cache's
 * {@code repo_id} and {@code subfolder}, notes, other tools' settings) are ignored with a DEBUG note, as the reference
 * ignores them; values of the wrong type in the keys it uses are errors that name the file and the key.
 *
 * @param modelKind         {@code model_kind}
 * @param featureInputHook  {@code feature_input_hook}: an input site ({@code hook_resid_mid}, {@code ln2.hook_normalized},
 *                          {@code mlp.hook_in})
 * @param featureOutputHook {@code feature_output_hook}: an output site ({@code mlp.hook_out}, {@code hook_mlp_out})
 * @param modelName         {@code model_name}: the base model's id
 * @param transcoders       {@code transcoders}: per-layer file paths (index = layer), relative to the directory; empty
 *                          for the standard file names
 * @param activation        {@code activation} (+ {@code k}): ReLU, or TopK when {@code k} is known; empty = JumpReLU
 *                          if the weights have thresholds, else ReLU (also for {@code activation: jumprelu}), or TopK
 *                          whose {@code k} comes from elsewhere ({@link #topKWithoutK()})
 * @param scan              {@code scan}: feature-visualisation id; empty = the directory's path
 * @param revision          {@code revision}: the source repository's revision
 * @param activationName    {@code activation} as written: {@code relu}, {@code topk} or {@code jumprelu}; empty when
 *                          the key is absent
 */
public record ReferenceConfig(ModelKind modelKind, SiteKind featureInputHook, SiteKind featureOutputHook,
                              Optional<String> modelName, List<String> transcoders,
                              Optional<ActivationFunction> activation, Optional<String> scan,
                              Optional<String> revision, Optional<String> activationName) {

    /** The file name. */
    public static final String FILE_NAME = "config.yaml";

    /** {@code activation: relu}. */
    public static final String RELU = "relu";
    /** {@code activation: topk} (with {@code k}). */
    public static final String TOPK = "topk";
    /** {@code activation: jumprelu}: the threshold tensors decide, as when the key is absent (circuit-tracer PR #94). */
    public static final String JUMPRELU = "jumprelu";
    private static final Set<String> ACTIVATIONS = Set.of(RELU, TOPK, JUMPRELU);
    /** Activations of other tools' checkpoints (EleutherAI clt-training, sparsify) that the reference cannot compute. */
    public static final Set<String> FOREIGN_ACTIVATIONS = Set.of("batchtopk", "groupmax");
    private static final Set<String> KEYS = Set.of("model_kind", "feature_input_hook", "feature_output_hook",
            "model_name", "transcoders", "activation", "k", "scan", "revision");
    private static final System.Logger LOG = System.getLogger(ReferenceConfig.class.getName());
    private static final YAMLMapper YAML = YAMLMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .build();

    public ReferenceConfig {
        Objects.requireNonNull(modelKind, "modelKind");
        if (!Transcoders.INPUT_SITES.contains(featureInputHook)
                || !Transcoders.OUTPUT_SITES.contains(featureOutputHook)) {
            throw new IllegalArgumentException("not an input → output site pair: " + featureInputHook + " → "
                    + featureOutputHook);
        }
        Objects.requireNonNull(modelName, "modelName");
        transcoders = List.copyOf(transcoders);
        if (activation.isPresent() && activation.get() instanceof ActivationFunction.JumpRelu) {
            throw new IllegalArgumentException("JumpReLU is selected by threshold tensors, not by config.yaml");
        }
        Objects.requireNonNull(scan, "scan");
        Objects.requireNonNull(revision, "revision");
        if (activationName.isPresent() && !ACTIVATIONS.contains(activationName.get())) {
            throw new IllegalArgumentException("activation is relu, topk or jumprelu, not " + activationName.get());
        }
        if (!activationName.equals(activation.map(ReferenceConfig::nameOf))
                && !(activation.isEmpty() && activationName.filter(n -> !n.equals(RELU)).isPresent())) {
            throw new IllegalArgumentException("activation " + activation + " does not match the name " + activationName);
        }
    }

    /** A configuration whose {@code activation} name follows from {@code activation} (absent, relu or topk). */
    public ReferenceConfig(ModelKind modelKind, SiteKind featureInputHook, SiteKind featureOutputHook,
                           Optional<String> modelName, List<String> transcoders,
                           Optional<ActivationFunction> activation, Optional<String> scan, Optional<String> revision) {
        this(modelKind, featureInputHook, featureOutputHook, modelName, transcoders, activation, scan, revision,
                activation.map(ReferenceConfig::nameOf));
    }

    /** A configuration with only the required keys. */
    public static ReferenceConfig of(ModelKind modelKind, SiteKind featureInputHook, SiteKind featureOutputHook) {
        return new ReferenceConfig(modelKind, featureInputHook, featureOutputHook, Optional.empty(), List.of(),
                Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** The same with {@code activation} (ReLU or TopK). */
    public ReferenceConfig withActivation(ActivationFunction function) {
        return new ReferenceConfig(modelKind, featureInputHook, featureOutputHook, modelName, transcoders,
                Optional.of(function), scan, revision);
    }

    /** The same with {@code activation: name} and no {@code k}: {@code jumprelu}, or {@code topk} without k. */
    public ReferenceConfig withActivationName(String name) {
        if (name.equals(RELU)) {
            return withActivation(new ActivationFunction.Relu());
        }
        return new ReferenceConfig(modelKind, featureInputHook, featureOutputHook, modelName, transcoders,
                Optional.empty(), scan, revision, Optional.of(name));
    }

    /** The same with {@code scan}. */
    public ReferenceConfig withScan(String newScan) {
        return new ReferenceConfig(modelKind, featureInputHook, featureOutputHook, modelName, transcoders,
                activation, Optional.of(newScan), revision, activationName);
    }

    /** The same without a {@code transcoders} list, i.e. for files with the standard names. */
    public ReferenceConfig withStandardFileNames() {
        return new ReferenceConfig(modelKind, featureInputHook, featureOutputHook, modelName, List.of(),
                activation, scan, revision, activationName);
    }

    /**
     * Whether the config says {@code activation: topk} without {@code k}: the reader takes k from the files' {@code k}
     * tensor, the {@code topk} option, or the repositories the reference knows ({@link KnownTopK}).
     */
    public boolean topKWithoutK() {
        return activation.isEmpty() && activationName.equals(Optional.of(TOPK));
    }

    private static String nameOf(ActivationFunction function) {
        if (function instanceof ActivationFunction.Relu) {
            return RELU;
        }
        if (function instanceof ActivationFunction.TopK) {
            return TOPK;
        }
        throw new IllegalArgumentException("config.yaml holds relu or topk, not " + function);
    }

    // ------------------------------------------------------------------------------------------------ reading

    /**
     * Reads and validates {@code directory/config.yaml}.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND, or MALFORMED_FILE naming the key and what it may hold
     */
    public static ReferenceConfig read(Path directory) {
        Path file = directory.resolve(FILE_NAME);
        Fields fields = new Fields(file, tree(file));
        String kindName = fields.text("model_kind", true).orElseThrow();
        ModelKind kind = ModelKind.fromYamlName(kindName).orElseThrow(() -> fields.error("model_kind", "is '"
                + kindName + "'; expected " + ModelKind.TRANSCODER_SET.yamlName() + " (per-layer transcoders) or "
                + ModelKind.CROSS_LAYER_TRANSCODER.yamlName() + " (a cross-layer transcoder)"));
        SiteKind input = fields.site("feature_input_hook", Transcoders.INPUT_SITES);
        SiteKind output = fields.site("feature_output_hook", Transcoders.OUTPUT_SITES);
        Optional<String> name = fields.activationName();
        return new ReferenceConfig(kind, input, output, fields.text("model_name", false), fields.paths("transcoders"),
                fields.activation(name), fields.text("scan", false), fields.text("revision", false), name);
    }

    /**
     * The {@code model_kind} and {@code transcoders} entries of {@code directory/config.yaml}, for recognising a
     * directory: cheap, lenient (anything unreadable gives empty), never throws.
     */
    public static Optional<Peek> peek(Path directory) {
        try {
            JsonNode root = YAML.readTree(directory.resolve(FILE_NAME).toFile());
            JsonNode kind = root == null || !root.isObject() ? null : root.get("model_kind");
            if (kind == null || !kind.isTextual()) {
                return Optional.empty();
            }
            List<String> files = new ArrayList<>();
            JsonNode listed = root.get("transcoders");
            if (listed != null && !listed.isNull()) {
                listed.forEach(entry -> files.add(entry.asText()));
            }
            return Optional.of(new Peek(kind.asText(), files));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** What {@link #peek(Path)} found. */
    public record Peek(String modelKind, List<String> transcoders) {
    }

    /** {@code directory/config.yaml} as a YAML mapping, or empty when it is missing, unreadable or not a mapping. */
    public static Optional<JsonNode> lenientTree(Path directory) {
        try {
            JsonNode root = YAML.readTree(directory.resolve(FILE_NAME).toFile());
            return root != null && root.isObject() ? Optional.of(root) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static JsonNode tree(Path file) {
        try {
            JsonNode root = YAML.readTree(Files.readString(file));
            if (root == null || !root.isObject()) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " is not a YAML mapping; "
                        + "a transcoder config holds keys such as 'model_kind: transcoder_set'.");
            }
            return root;
        } catch (NoSuchFileException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, file.getParent() + " has no "
                    + FILE_NAME + "; a reference transcoder directory holds config.yaml (model_kind, "
                    + "feature_input_hook, feature_output_hook) and the safetensors files.", e);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " is not UTF-8 text; "
                    + "a transcoder config is a YAML file with keys such as 'model_kind: transcoder_set'.", e);
        } catch (JsonProcessingException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " is not valid YAML: "
                    + e.getOriginalMessage() + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + ")"), e);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot read " + file + ": " + e, e);
        }
    }

    /** Typed access to the keys of one config file, with errors that name the file and the key. */
    private record Fields(Path file, JsonNode root) {
        Fields {
            List<String> unknown = new ArrayList<>();
            root.fieldNames().forEachRemaining(name -> {
                if (!KEYS.contains(name)) {
                    unknown.add(name);
                }
            });
            if (!unknown.isEmpty()) {
                LOG.log(System.Logger.Level.DEBUG, () -> file + ": ignoring key" + (unknown.size() == 1 ? " " : "s ")
                        + unknown + ", which circuit-tracer does not use (it reads "
                        + KEYS.stream().sorted().collect(Collectors.joining(", ")) + ")");
            }
        }

        /** The value of {@code key}; null when absent or YAML null (which means absent). */
        JsonNode node(String key) {
            JsonNode node = root.get(key);
            return node == null || node.isNull() ? null : node;
        }

        Optional<String> text(String key, boolean required) {
            JsonNode node = node(key);
            if (node == null) {
                if (required) {
                    throw error(key, "is missing; it is required");
                }
                return Optional.empty();
            }
            if (!node.isValueNode()) {
                throw error(key, "must be a single value, got " + describe(node));
            }
            return Optional.of(node.asText());
        }

        SiteKind site(String key, Set<SiteKind> allowed) {
            String name = text(key, true).orElseThrow();
            return SiteKind.fromHookName(name).filter(allowed::contains).orElseThrow(() -> error(key, "is '" + name
                    + "', which is not a transcoder " + (allowed == Transcoders.INPUT_SITES ? "input" : "output")
                    + " site; use one of " + allowed.stream().map(SiteKind::hookName).sorted()
                    .collect(Collectors.joining(", "))));
        }

        List<String> paths(String key) {
            JsonNode node = node(key);
            if (node == null) {
                return List.of();
            }
            if (!node.isArray() || node.isEmpty()) {
                throw error(key, "must be a non-empty list of file paths (index = layer), got " + describe(node));
            }
            List<String> paths = new ArrayList<>();
            for (JsonNode entry : node) {
                if (!entry.isTextual()) {
                    throw error(key, "must list file paths, but entry " + paths.size() + " is " + describe(entry));
                }
                paths.add(entry.asText());
            }
            return paths;
        }

        /** {@code activation} as written (lower case), checked; clt-training's activations are UNSUPPORTED. */
        Optional<String> activationName() {
            Optional<String> name = text("activation", false);
            if (name.isEmpty()) {
                return name;
            }
            String n = name.get().toLowerCase(java.util.Locale.ROOT);
            if (n.equals("jump_relu")) {
                n = JUMPRELU; // the reference's own spelling in cross_layer_transcoder.py
            }
            if (FOREIGN_ACTIVATIONS.contains(n)) {
                throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "unsupported format: "
                        + file + " says 'activation: " + name.get() + "', an activation of EleutherAI's sparsify / "
                        + "clt-training checkpoints, which circuit-tracer cannot compute (it reads ReLU, JumpReLU and "
                        + "TopK transcoders in circuit-tracer's layout).");
            }
            if (!ACTIVATIONS.contains(n)) {
                throw error("activation", "is '" + name.get() + "'; use relu, topk (with k) or jumprelu, or leave it "
                        + "out for JumpReLU when the weights have thresholds and ReLU otherwise");
            }
            return Optional.of(n);
        }

        /** ReLU, TopK with {@code k}, or empty (thresholds decide, or TopK whose k comes from elsewhere). */
        Optional<ActivationFunction> activation(Optional<String> name) {
            JsonNode k = node("k");
            if (name.isEmpty() || !name.get().equals(TOPK)) {
                if (k != null) {
                    throw error("k", "is only used with 'activation: topk'");
                }
                return name.filter(RELU::equals).map(n -> new ActivationFunction.Relu());
            }
            if (k == null) {
                return Optional.empty(); // the reader finds k: the files' k tensor, the topk option, KnownTopK
            }
            if (!k.isIntegralNumber() || !k.canConvertToInt() || k.asInt() < 1) {
                throw error("k", "must be a whole number >= 1, got " + describe(k));
            }
            return Optional.of(new ActivationFunction.TopK(k.asInt()));
        }

        CircuitTracerException error(String key, String problem) {
            return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + ": " + key + " " + problem + ".");
        }

        private static String describe(JsonNode node) {
            if (node.isArray()) {
                return "a list";
            }
            if (node.isObject()) {
                return "a mapping";
            }
            return node.isNull() ? "nothing (null)" : "'" + node.asText() + "'";
        }
    }

    // ------------------------------------------------------------------------------------------------ writing

    /** The YAML text, keys in the reference's order; absent optional keys are left out. */
    public String toYaml() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("model_kind", modelKind.yamlName());
        modelName.ifPresent(n -> map.put("model_name", n));
        map.put("feature_input_hook", featureInputHook.hookName());
        map.put("feature_output_hook", featureOutputHook.hookName());
        if (!transcoders.isEmpty()) {
            map.put("transcoders", transcoders);
        }
        activationName.ifPresent(n -> map.put("activation", n));
        activation.ifPresent(f -> {
            if (f instanceof ActivationFunction.TopK topK) {
                map.put("k", topK.k());
            }
        });
        scan.ifPresent(s -> map.put("scan", s));
        revision.ifPresent(r -> map.put("revision", r));
        try {
            return YAML.writeValueAsString(map);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("strings and numbers always serialise", e);
        }
    }
}
