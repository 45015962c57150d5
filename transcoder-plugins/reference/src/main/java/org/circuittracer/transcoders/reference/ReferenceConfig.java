package org.circuittracer.transcoders.reference;

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
import org.circuittracer.transcoders.common.Transcoders;

/**
 * The {@code config.yaml} of a reference transcoder directory (docs/reference/algorithm.md §8.2). Unknown keys and values of the
 * wrong type are errors, so a typo never silently changes what is loaded.
 *
 * @param modelKind         {@code model_kind}
 * @param featureInputHook  {@code feature_input_hook}: an input site ({@code hook_resid_mid}, {@code ln2.hook_normalized},
 *                          {@code mlp.hook_in})
 * @param featureOutputHook {@code feature_output_hook}: an output site ({@code mlp.hook_out}, {@code hook_mlp_out})
 * @param modelName         {@code model_name}: the base model's id
 * @param transcoders       {@code transcoders}: per-layer file paths (index = layer), relative to the directory; empty
 *                          for the standard file names
 * @param activation        {@code activation} (+ {@code k}): ReLU or TopK; empty = JumpReLU if the weights have
 *                          thresholds, else ReLU
 * @param scan              {@code scan}: feature-visualisation id; empty = the directory's path
 * @param revision          {@code revision}: the source repository's revision
 */
public record ReferenceConfig(ModelKind modelKind, SiteKind featureInputHook, SiteKind featureOutputHook,
                              Optional<String> modelName, List<String> transcoders,
                              Optional<ActivationFunction> activation, Optional<String> scan,
                              Optional<String> revision) {

    /** The file name. */
    public static final String FILE_NAME = "config.yaml";

    /** The one repository whose TopK transcoders omit {@code k}; the reference falls back to 128 for it. */
    private static final String CRV_SCAN = "facebook/crv-8b-instruct-transcoders";
    private static final Set<String> KEYS = Set.of("model_kind", "feature_input_hook", "feature_output_hook",
            "model_name", "transcoders", "activation", "k", "scan", "revision");
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

    /** The same with {@code scan}. */
    public ReferenceConfig withScan(String newScan) {
        return new ReferenceConfig(modelKind, featureInputHook, featureOutputHook, modelName, transcoders,
                activation, Optional.of(newScan), revision);
    }

    /** The same without a {@code transcoders} list, i.e. for files with the standard names. */
    public ReferenceConfig withStandardFileNames() {
        return new ReferenceConfig(modelKind, featureInputHook, featureOutputHook, modelName, List.of(),
                activation, scan, revision);
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
        Optional<String> scan = fields.text("scan", false);
        return new ReferenceConfig(kind, input, output, fields.text("model_name", false), fields.paths("transcoders"),
                fields.activation(scan), scan, fields.text("revision", false));
    }

    /**
     * The {@code model_kind} and {@code transcoders} entries of {@code directory/config.yaml}, for recognising a
     * directory: cheap, lenient (anything unreadable gives empty), never throws.
     */
    static Optional<Peek> peek(Path directory) {
        try {
            JsonNode root = YAML.readTree(directory.resolve(FILE_NAME).toFile());
            JsonNode kind = root == null ? null : root.get("model_kind");
            if (kind == null || !kind.isTextual()) {
                return Optional.empty();
            }
            List<String> files = new ArrayList<>();
            JsonNode listed = root.get("transcoders");
            if (listed != null) {
                listed.forEach(entry -> files.add(entry.asText()));
            }
            return Optional.of(new Peek(kind.asText(), files));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** What {@link #peek(Path)} found. */
    record Peek(String modelKind, List<String> transcoders) {
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
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + ": unknown key"
                        + (unknown.size() == 1 ? " " : "s ") + unknown + "; the keys are "
                        + KEYS.stream().sorted().collect(Collectors.joining(", ")) + ".");
            }
        }

        Optional<String> text(String key, boolean required) {
            JsonNode node = root.get(key);
            if (node == null) {
                if (required) {
                    throw error(key, "is missing; it is required");
                }
                return Optional.empty();
            }
            if (!node.isValueNode() || node.isNull()) {
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
            JsonNode node = root.get(key);
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

        Optional<ActivationFunction> activation(Optional<String> scan) {
            Optional<String> name = text("activation", false);
            JsonNode k = root.get("k");
            if (name.isEmpty() || !name.get().equals("topk")) {
                if (k != null) {
                    throw error("k", "is only used with 'activation: topk'");
                }
                return name.map(n -> {
                    if (!n.equals("relu")) {
                        throw error("activation", "is '" + n + "'; use relu or topk (with k), or leave it out for "
                                + "JumpReLU when the weights have thresholds and ReLU otherwise");
                    }
                    return new ActivationFunction.Relu();
                });
            }
            if (k == null) {
                if (scan.equals(Optional.of(CRV_SCAN))) {
                    System.getLogger(ReferenceConfig.class.getName()).log(System.Logger.Level.WARNING,
                            file + ": 'activation: topk' without k; using k = 128 for " + CRV_SCAN + " as the reference does");
                    return Optional.of(new ActivationFunction.TopK(128));
                }
                throw error("k", "is missing; 'activation: topk' needs k, the number of features kept per position");
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
        activation.ifPresent(f -> {
            map.put("activation", f instanceof ActivationFunction.TopK ? "topk" : "relu");
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
