package org.circuittracer.transcoders.nativeformat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.common.Nonlinearity;
import org.circuittracer.transcoders.common.Transcoders;

/**
 * {@code dictionary.json}: what a circuit-tracer dictionary directory holds, written last so that its presence marks a
 * complete directory.
 *
 * <pre>{@code
 * {
 *   "format": "circuit-tracer-dictionary",
 *   "formatVersion": 1,
 *   "kind": "plt",                        // or "clt"
 *   "layers": 3, "width": 16, "features": [32, 32, 32],
 *   "readSite": "hook_resid_mid", "writeSite": "hook_mlp_out",
 *   "activation": {"name": "topk", "k": 8},   // relu | jumprelu | topk (k) | relu-topk (k)
 *   "scan": "gemma-2-2b/transcoders",
 *   "files": ["layer_0.safetensors", "layer_1.safetensors", "layer_2.safetensors"],
 *   "checksums": {"layer_0.safetensors": {"bytes": 4512, "headerSha256": "…", "crc32c": "…"}, …}
 * }
 * }</pre>
 *
 * <p>Reading checks {@code format}, then {@code formatVersion} (outside {@link #OLDEST_READABLE_VERSION} …
 * {@link #CURRENT_VERSION}: UNSUPPORTED_FORMAT_VERSION), then every other field (MALFORMED_FILE naming it). Unknown
 * fields are errors: a writer that adds fields bumps the version.
 *
 * @param kind       per-layer or cross-layer transcoders
 * @param layers     {@code L}
 * @param width      {@code d}
 * @param features   {@code F} per layer
 * @param readSite   the input site of every layer
 * @param writeSite  the output site of every layer
 * @param activation the activation of every layer: ReLU, JumpReLU (thresholds in the files), TopK or ReLU after TopK
 * @param scan       the feature-visualisation id; empty = the directory's path
 * @param files      the layer files, index = layer, relative to the directory
 * @param checksums  file name → its checksums
 */
record Manifest(Kind kind, int layers, int width, int[] features, SiteKind readSite, SiteKind writeSite,
                ActivationFunction activation, Optional<String> scan, List<String> files,
                Map<String, FileChecksum> checksums) {

    static final String FILE_NAME = "dictionary.json";
    static final String FORMAT = "circuit-tracer-dictionary";
    /** The version this build writes. */
    static final int CURRENT_VERSION = 1;
    /** The oldest version this build reads. */
    static final int OLDEST_READABLE_VERSION = 1;

    private static final Set<String> KEYS = Set.of("format", "formatVersion", "kind", "layers", "width", "features",
            "readSite", "writeSite", "activation", "scan", "files", "checksums");
    private static final Pattern FILE = Pattern.compile("[A-Za-z0-9_.-]+\\.safetensors");
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    /** Which decoders the layers have. */
    enum Kind {
        /** Per-layer transcoders: layer ℓ writes to layer ℓ only ({@code W_dec [F, 1, d]}). */
        PLT("plt"),
        /** A cross-layer transcoder: layer ℓ writes to layers ℓ … L−1 ({@code W_dec [F, L−ℓ, d]}). */
        CLT("clt");

        final String json;

        Kind(String json) {
            this.json = json;
        }

        /** How many output layers source layer {@code layer} of {@code layers} writes to. */
        int outputs(int layer, int layers) {
            return this == PLT ? 1 : layers - layer;
        }
    }

    /**
     * What a layer file must still be when it is read.
     *
     * @param bytes        the file size
     * @param headerSha256 SHA-256 of the safetensors JSON header (the bytes after the 8-byte length), lowercase hex:
     *                     checked on every open
     * @param crc32c       CRC32C of the whole file, 8 lowercase hex digits: checked with the option {@code verify=full}
     */
    record FileChecksum(long bytes, String headerSha256, String crc32c) {
        FileChecksum {
            Objects.requireNonNull(headerSha256, "headerSha256");
            Objects.requireNonNull(crc32c, "crc32c");
        }
    }

    Manifest {
        Objects.requireNonNull(kind, "kind");
        features = features.clone();
        Objects.requireNonNull(readSite, "readSite");
        Objects.requireNonNull(writeSite, "writeSite");
        Objects.requireNonNull(activation, "activation");
        Objects.requireNonNull(scan, "scan");
        files = List.copyOf(files);
        checksums = Map.copyOf(checksums);
    }

    @Override
    public int[] features() {
        return features.clone();
    }

    /** The standard name of layer {@code layer}'s file. */
    static String layerFile(int layer) {
        return "layer_" + layer + ".safetensors";
    }

    // ------------------------------------------------------------------------------------------------ reading

    /**
     * Reads {@code directory/dictionary.json}.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND without it; UNSUPPORTED_FORMAT_VERSION for a version this build
     *                                does not read; MALFORMED_FILE for anything else, naming the field
     */
    static Manifest read(Path directory) {
        Path file = directory.resolve(FILE_NAME);
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, directory + " has no " + FILE_NAME
                    + "; a circuit-tracer dictionary directory holds " + FILE_NAME + " and one safetensors file per "
                    + "layer.", e);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " is not UTF-8 text; the file "
                    + "is corrupt: rewrite the dictionary.", e);
        } catch (JsonProcessingException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " is not valid JSON ("
                    + e.getOriginalMessage() + (e.getLocation() == null ? "" : ", line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr()) + "); the file is corrupt: rewrite the dictionary.",
                    e);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot read " + file + ": " + e, e);
        }
        Fields fields = new Fields(file, root);
        String format = fields.text("format");
        if (!format.equals(FORMAT)) {
            throw fields.error("format", "is '" + format + "'; expected '" + FORMAT + "'");
        }
        checkVersion(file, fields.integer("formatVersion", Integer.MIN_VALUE));
        fields.onlyKnownKeys();
        Kind kind = Arrays.stream(Kind.values()).filter(k -> k.json.equals(fields.text("kind"))).findFirst()
                .orElseThrow(() -> fields.error("kind", "is '" + fields.text("kind") + "'; expected plt (per-layer "
                        + "transcoders) or clt (a cross-layer transcoder)"));
        int layers = fields.integer("layers", 1);
        int width = fields.integer("width", 1);
        int[] features = fields.positiveIntegers("features", layers);
        SiteKind readSite = fields.site("readSite", Transcoders.INPUT_SITES);
        SiteKind writeSite = fields.site("writeSite", Transcoders.OUTPUT_SITES);
        ActivationFunction activation = fields.activation();
        Optional<String> scan = root.has("scan") ? Optional.of(fields.text("scan")) : Optional.empty();
        List<String> files = fields.files(layers);
        Map<String, FileChecksum> checksums = fields.checksums(files);
        return new Manifest(kind, layers, width, features, readSite, writeSite, activation, scan, files, checksums);
    }

    private static void checkVersion(Path file, int version) {
        if (version > CURRENT_VERSION) {
            throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_FORMAT_VERSION, file + " has formatVersion "
                    + version + ", written by a newer circuit-tracer; this build reads versions "
                    + OLDEST_READABLE_VERSION + " to " + CURRENT_VERSION + ". Upgrade circuit-tracer to read it.");
        }
        if (version < OLDEST_READABLE_VERSION) {
            throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_FORMAT_VERSION, file + " has formatVersion "
                    + version + ", older than this build reads (" + OLDEST_READABLE_VERSION + " to " + CURRENT_VERSION
                    + "). Convert the original weights again with this circuit-tracer (NativeFormatWriter).");
        }
    }

    /** Typed access to the fields of one manifest, with errors naming the file and the field. */
    private record Fields(Path file, JsonNode root) {
        Fields {
            if (!root.isObject()) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " is not a JSON object; "
                        + "the file is corrupt: rewrite the dictionary.");
            }
        }

        void onlyKnownKeys() {
            Set<String> unknown = new TreeSet<>();
            root.fieldNames().forEachRemaining(name -> {
                if (!KEYS.contains(name)) {
                    unknown.add(name);
                }
            });
            if (!unknown.isEmpty()) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + ": unknown field"
                        + (unknown.size() == 1 ? " " : "s ") + unknown + " for formatVersion " + CURRENT_VERSION
                        + "; the fields are " + new TreeSet<>(KEYS) + ".");
            }
        }

        JsonNode required(String key) {
            JsonNode node = root.get(key);
            if (node == null || node.isNull()) {
                throw error(key, "is missing");
            }
            return node;
        }

        String text(String key) {
            JsonNode node = required(key);
            if (!node.isTextual()) {
                throw error(key, "must be a string, got " + node);
            }
            return node.asText();
        }

        int integer(String key, int minimum) {
            return integer(key, required(key), minimum);
        }

        int integer(String key, JsonNode node, int minimum) {
            if (!node.isIntegralNumber() || !node.canConvertToInt() || node.asInt() < minimum) {
                throw error(key, "must be a whole number" + (minimum > Integer.MIN_VALUE ? " >= " + minimum : "")
                        + ", got " + node);
            }
            return node.asInt();
        }

        int[] positiveIntegers(String key, int count) {
            JsonNode node = required(key);
            if (!node.isArray() || node.size() != count) {
                throw error(key, "must list " + count + " numbers (one per layer), got " + node);
            }
            int[] values = new int[count];
            for (int i = 0; i < count; i++) {
                values[i] = integer(key + "[" + i + "]", node.get(i), 1);
            }
            return values;
        }

        SiteKind site(String key, Set<SiteKind> allowed) {
            String name = text(key);
            return SiteKind.fromHookName(name).filter(allowed::contains).orElseThrow(() -> error(key, "is '" + name
                    + "'; use one of " + allowed.stream().map(SiteKind::hookName).sorted().toList()));
        }

        ActivationFunction activation() {
            JsonNode node = required("activation");
            JsonNode name = node.get("name");
            if (!node.isObject() || name == null || !name.isTextual()) {
                throw error("activation", "must be an object with a name (relu, jumprelu, topk, relu-topk), got "
                        + node);
            }
            boolean withK = name.asText().equals("topk") || name.asText().equals("relu-topk");
            Set<String> expected = withK ? Set.of("name", "k") : Set.of("name");
            Set<String> present = new TreeSet<>();
            node.fieldNames().forEachRemaining(present::add);
            if (!present.equals(expected)) {
                throw error("activation", "must hold exactly " + new TreeSet<>(expected) + " for '" + name.asText()
                        + "', got " + present);
            }
            return switch (name.asText()) {
                case "relu" -> new ActivationFunction.Relu();
                case "jumprelu" -> new ActivationFunction.JumpRelu();
                case "topk" -> new ActivationFunction.TopK(integer("activation.k", node.get("k"), 1));
                case "relu-topk" -> Nonlinearity.ReluTopK.function(integer("activation.k", node.get("k"), 1));
                default -> throw error("activation.name", "is '" + name.asText()
                        + "'; expected relu, jumprelu, topk or relu-topk");
            };
        }

        List<String> files(int layers) {
            JsonNode node = required("files");
            if (!node.isArray() || node.size() != layers) {
                throw error("files", "must list " + layers + " file names (one per layer), got " + node);
            }
            List<String> names = new ArrayList<>();
            for (JsonNode entry : node) {
                if (!entry.isTextual() || !FILE.matcher(entry.asText()).matches()) {
                    throw error("files", "must hold plain .safetensors file names in the directory, got " + entry);
                }
                if (names.contains(entry.asText())) {
                    throw error("files", "lists " + entry + " twice");
                }
                names.add(entry.asText());
            }
            return names;
        }

        Map<String, FileChecksum> checksums(List<String> files) {
            JsonNode node = required("checksums");
            Set<String> present = new TreeSet<>();
            node.fieldNames().forEachRemaining(present::add);
            if (!node.isObject() || !present.equals(new TreeSet<>(files))) {
                throw error("checksums", "must have one entry for each of " + files + ", got " + present);
            }
            Map<String, FileChecksum> checksums = new LinkedHashMap<>();
            for (String name : files) {
                JsonNode entry = node.get(name);
                String where = "checksums." + name;
                JsonNode bytes = entry.get("bytes");
                JsonNode sha = entry.get("headerSha256");
                JsonNode crc = entry.get("crc32c");
                if (entry.size() != 3 || bytes == null || !bytes.canConvertToLong() || bytes.asLong() < 8
                        || sha == null || !sha.isTextual() || !sha.asText().matches("[0-9a-f]{64}")
                        || crc == null || !crc.isTextual() || !crc.asText().matches("[0-9a-f]{8}")) {
                    throw error(where, "must be {\"bytes\": size, \"headerSha256\": 64 hex digits, \"crc32c\": 8 hex "
                            + "digits}, got " + entry);
                }
                checksums.put(name, new FileChecksum(bytes.asLong(), sha.asText(), crc.asText()));
            }
            return checksums;
        }

        CircuitTracerException error(String key, String problem) {
            return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + ": " + key + " " + problem
                    + ".");
        }
    }

    // ------------------------------------------------------------------------------------------------ writing

    /** The JSON text, fields in the documented order. */
    String toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("formatVersion", CURRENT_VERSION);
        root.put("kind", kind.json);
        root.put("layers", layers);
        root.put("width", width);
        ArrayNode counts = root.putArray("features");
        Arrays.stream(features).forEach(counts::add);
        root.put("readSite", readSite.hookName());
        root.put("writeSite", writeSite.hookName());
        root.set("activation", activationJson(activation));
        scan.ifPresent(s -> root.put("scan", s));
        ArrayNode names = root.putArray("files");
        files.forEach(names::add);
        ObjectNode sums = root.putObject("checksums");
        for (String name : files) {
            FileChecksum sum = checksums.get(name);
            sums.putObject(name).put("bytes", sum.bytes()).put("headerSha256", sum.headerSha256())
                    .put("crc32c", sum.crc32c());
        }
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of strings and numbers always serialises", e);
        }
    }

    /** Whether the format stores this activation function. */
    static boolean storable(ActivationFunction function) {
        return function instanceof ActivationFunction.Relu || function instanceof ActivationFunction.JumpRelu
                || function instanceof ActivationFunction.TopK || Nonlinearity.ReluTopK.of(function).isPresent();
    }

    private static ObjectNode activationJson(ActivationFunction function) {
        ObjectNode node = JSON.createObjectNode();
        if (function instanceof ActivationFunction.Relu) {
            node.put("name", "relu");
        } else if (function instanceof ActivationFunction.JumpRelu) {
            node.put("name", "jumprelu");
        } else if (function instanceof ActivationFunction.TopK topK) {
            node.put("name", "topk").put("k", topK.k());
        } else {
            int k = Nonlinearity.ReluTopK.of(function).orElseThrow(() -> new IllegalArgumentException(
                    "the format stores ReLU, JumpReLU, TopK and ReLU after TopK, not " + function));
            node.put("name", "relu-topk").put("k", k);
        }
        return node;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Manifest m && kind == m.kind && layers == m.layers && width == m.width
                && Arrays.equals(features, m.features) && readSite == m.readSite && writeSite == m.writeSite
                && activation.equals(m.activation) && scan.equals(m.scan) && files.equals(m.files)
                && checksums.equals(m.checksums);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, layers, width, Arrays.hashCode(features), readSite, writeSite, activation, scan,
                files, checksums);
    }

    @Override
    public String toString() {
        return "Manifest[" + kind.json + ", " + layers + " layers, d=" + width + ", features="
                + Arrays.stream(features).mapToObj(Integer::toString).collect(Collectors.joining(",", "[", "]"))
                + ", " + readSite.hookName() + " → " + writeSite.hookName() + ", " + activation + "]";
    }
}
