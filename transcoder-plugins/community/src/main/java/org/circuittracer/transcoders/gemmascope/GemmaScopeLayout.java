package org.circuittracer.transcoders.gemmascope;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Recognition;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.transcoders.common.Layers;
import org.circuittracer.transcoders.common.ReferenceConfig;

/**
 * Where the layers' {@code params.npz} files of a GemmaScope directory are. Two layouts:
 *
 * <ol>
 *   <li><b>Listed</b>: the reference's {@code config.yaml} ({@code model_kind: transcoder_set}, the hooks, and
 *       {@code transcoders:} listing one local {@code .npz} file per layer, relative to the directory; docs/reference/algorithm.md
 *       §8.2). This is how a GemmaScope release, which holds several widths and L0s per layer
 *       ({@code layer_3/width_16k/average_l0_71/params.npz}), is narrowed to one transcoder per layer.</li>
 *   <li><b>Plain</b> (no {@code config.yaml}): per layer {@code i}, either {@code layer_{i}.npz} or a directory
 *       {@code layer_{i}/} holding exactly one {@code params.npz} at any depth up to {@value #MAX_DEPTH}
 *       ({@code layer_{i}/params.npz}, or one chosen {@code width_…/average_l0_…/params.npz}).</li>
 * </ol>
 *
 * @param files  the npz file of each layer, layer order
 * @param config the configuration of a listed layout
 */
record GemmaScopeLayout(List<Path> files, Optional<ReferenceConfig> config) {

    static final String CONFIG = ReferenceConfig.FILE_NAME;
    static final String PARAMS = "params.npz";
    static final String NPZ = ".npz";
    static final int MAX_DEPTH = 4;
    private static final Pattern LAYER = Pattern.compile("layer_(0|[1-9][0-9]{0,5})(\\.npz)?");
    private static final YAMLMapper YAML = new YAMLMapper();

    /** Cheap: a config listing only {@code .npz} files, or (without a config) a layer 0 in the plain layout. */
    static Recognition recognize(Path directory) {
        if (Files.exists(directory.resolve(CONFIG))) {
            return listsNpzFiles(directory) ? Recognition.certain(CONFIG + " lists .npz files")
                    : Recognition.none(CONFIG + " does not list .npz files");
        }
        if (Files.exists(directory.resolve("dictionary.json")) || Layers.anySubdirectoryHolds(directory, "cfg.json")) {
            // the circuit-tracer format's, or SAELens's or sparsify's layer directories
            return Recognition.none("dictionary.json or layer directories with cfg.json (another format's)");
        }
        Path dir = directory.resolve("layer_0");
        return Files.isRegularFile(directory.resolve("layer_0" + NPZ))
                || Files.isDirectory(dir) && !paramsFiles(dir).isEmpty()
                ? Recognition.likely("layer_0 with a " + PARAMS)
                : Recognition.none("no layer_0.npz or layer_0/…/" + PARAMS);
    }

    private static boolean listsNpzFiles(Path directory) {
        try {
            JsonNode root = YAML.readTree(directory.resolve(CONFIG).toFile());
            JsonNode kind = root == null ? null : root.get("model_kind");
            JsonNode listed = root == null ? null : root.get("transcoders");
            if (kind == null || !kind.asText().equals("transcoder_set") || listed == null || !listed.isArray()
                    || listed.isEmpty()) {
                return false;
            }
            for (JsonNode entry : listed) {
                if (!entry.isTextual() || !entry.asText().endsWith(NPZ)) {
                    return false;
                }
            }
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Finds the files, checking that every layer has exactly one. */
    static GemmaScopeLayout find(Path directory) {
        if (Files.exists(directory.resolve(CONFIG))) {
            ReferenceConfig config = ReferenceConfig.read(directory);
            if (config.transcoders().isEmpty()) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, directory.resolve(CONFIG)
                        + " lists no transcoders; a GemmaScope set lists one .npz file per layer under transcoders: "
                        + "(without config.yaml, layer_{i}.npz or layer_{i}/…/params.npz are found by name).");
            }
            return new GemmaScopeLayout(listed(directory, config.transcoders()), Optional.of(config));
        }
        return new GemmaScopeLayout(plain(directory), Optional.empty());
    }

    private static List<Path> listed(Path directory, List<String> entries) {
        List<Path> files = new ArrayList<>();
        for (int layer = 0; layer < entries.size(); layer++) {
            String entry = entries.get(layer);
            String where = directory.resolve(CONFIG) + ": transcoders[" + layer + "] = '" + entry + "'";
            if (entry.contains("://")) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, where + " is a remote reference; "
                        + "download the files and list their local paths (relative to the directory).");
            }
            if (!entry.endsWith(NPZ)) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, where + " is not an .npz file; "
                        + "the gemma-scope-npz format reads GemmaScope params.npz files.");
            }
            Path file = directory.resolve(entry);
            if (!Files.isRegularFile(file)) {
                throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, where + ", but " + file
                        + " does not exist.");
            }
            files.add(file);
        }
        return files;
    }

    private static List<Path> plain(Path directory) {
        TreeMap<Integer, Path> byLayer = new TreeMap<>();
        try (Stream<Path> entries = Files.list(directory)) {
            for (Path entry : entries.sorted().toList()) {
                Matcher m = LAYER.matcher(entry.getFileName().toString());
                if (!m.matches() || (m.group(2) != null) != Files.isRegularFile(entry)
                        || m.group(2) == null && !Files.isDirectory(entry)) {
                    continue;
                }
                int layer = Integer.parseInt(m.group(1));
                Path file = m.group(2) != null ? entry : onlyParams(entry);
                Layers.put(byLayer, layer, file, byLayer.get(layer), file, "GemmaScope file");
            }
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot list " + directory + ": " + e,
                    e);
        }
        if (byLayer.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, directory + " holds no GemmaScope "
                    + "transcoders: expected layer_{i}.npz or layer_{i}/…/params.npz per layer, or a config.yaml "
                    + "listing .npz files under transcoders:.");
        }
        return Layers.contiguous(byLayer, "GemmaScope file", directory);
    }

    private static Path onlyParams(Path layerDirectory) {
        List<Path> found = paramsFiles(layerDirectory);
        if (found.size() == 1) {
            return found.get(0);
        }
        if (found.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, layerDirectory + " holds no "
                    + PARAMS + " (searched " + MAX_DEPTH + " levels deep).");
        }
        throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, layerDirectory + " holds " + found.size()
                + " " + PARAMS + " files (" + found.stream().limit(4).map(p -> layerDirectory.relativize(p).toString())
                .collect(Collectors.joining(", ")) + (found.size() > 4 ? ", …" : "") + "); keep one per layer, or "
                + "write a config.yaml whose transcoders: list the chosen file of each layer.");
    }

    private static List<Path> paramsFiles(Path layerDirectory) {
        try (Stream<Path> walk = Files.walk(layerDirectory, MAX_DEPTH)) {
            return walk.filter(p -> p.getFileName().toString().equals(PARAMS) && Files.isRegularFile(p)).sorted()
                    .toList();
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }
}
