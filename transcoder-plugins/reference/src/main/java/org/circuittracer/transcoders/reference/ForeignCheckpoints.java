package org.circuittracer.transcoders.reference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.transcoders.common.ReferenceConfig;

/**
 * Checkpoints of other tools that sit beside a {@code config.yaml} and are not circuit-tracer transcoders: EleutherAI's
 * clt-training (a fork of sparsify: per hook point {@code cfg.json} and {@code sae.safetensors} with {@code post_enc},
 * {@code W_decs.N}, {@code b_decs.N}, {@code W_skips.N}; {@code activation: batchtopk}). The reference formats
 * recognise such directories (so that detection does not answer "no format recognises") and refuse them with
 * UNSUPPORTED_ARCHITECTURE (the code the dictionary formats give what circuit-tracer does not compute; the
 * {@code sparsify} provider refuses the same checkpoints without a {@code config.yaml} alike) and a message that starts
 * with "unsupported format:", instead of calling the files corrupt.
 *
 * <p>Cheap: {@code config.yaml}, at most a few {@code cfg.json} files and safetensors headers.
 */
final class ForeignCheckpoints {

    /** Tensor names of clt-training's {@code SparseCoder} that circuit-tracer's formats never use. */
    static final Pattern CLT_TRAINING_TENSOR = Pattern.compile(
            "post_enc|post_encs\\.\\d+|post_enc_scale|post_enc_scales\\.\\d+|W_decs\\.\\d+|b_decs\\.\\d+|W_skips\\.\\d+");
    /** Keys of clt-training's {@code SparseCoderConfig} / {@code RunConfig} that circuit-tracer's config never has. */
    static final Set<String> CLT_TRAINING_KEYS = Set.of("coalesce_topk", "topk_coalesced", "n_targets", "n_sources",
            "post_encoder_scale", "train_post_encoder", "per_source_tied", "secondary_target_tied", "divide_cross_layer",
            "cross_layer", "expansion_factor", "num_latents", "transcode", "normalize_io", "tp_output");
    private static final int MAX_FILES = 4;
    private static final ObjectMapper JSON = new ObjectMapper();

    private ForeignCheckpoints() {
    }

    /**
     * What marks {@code directory} as another tool's checkpoint, for the message; empty for anything else. Never
     * throws.
     */
    static Optional<String> evidence(Path directory) {
        try {
            List<String> found = new ArrayList<>();
            Optional<JsonNode> config = ReferenceConfig.lenientTree(directory);
            config.ifPresent(c -> configEvidence(c, ReferenceConfig.FILE_NAME, !c.hasNonNull("model_kind"), found));
            for (Path file : topLevelSafetensors(directory)) {
                tensorEvidence(file, directory, found);
            }
            for (Path sub : hookPointDirectories(directory)) {
                Path cfg = sub.resolve("cfg.json");
                if (Files.isRegularFile(cfg) && Files.size(cfg) < 1_000_000) {
                    JsonNode node = JSON.readTree(cfg.toFile());
                    if (node != null && node.isObject()) {
                        configEvidence(node, directory.relativize(cfg).toString(), true, found);
                    }
                }
                tensorEvidence(sub.resolve("sae.safetensors"), directory, found);
            }
            return found.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", found));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Throws the UNSUPPORTED_ARCHITECTURE error when {@code directory} is another tool's checkpoint. */
    static void refuse(Path directory) {
        Optional<String> evidence = evidence(directory);
        if (evidence.isPresent()) {
            throw unsupported(directory + " is an EleutherAI clt-training (sparsify fork) checkpoint ("
                    + evidence.get() + ")");
        }
    }

    /** The error for a checkpoint of clt-training: {@code what} says which and why. */
    static CircuitTracerException unsupported(String what) {
        return new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "unsupported format: " + what
                + ", not a circuit-tracer transcoder set. Its BatchTopK encoders, post-encoder biases (post_enc) and "
                + "per-target decoders (W_decs.N) have no equivalent in circuit-tracer's formats, which read per-layer "
                + "(layer_{i}.safetensors) and cross-layer (W_enc_{i}/W_dec_{i}.safetensors) ReLU, JumpReLU and TopK "
                + "transcoders with config.yaml. Convert the checkpoint to that layout first.");
    }

    private static void configEvidence(JsonNode config, String name, boolean keysCount, List<String> found) {
        JsonNode activation = config.get("activation");
        if (activation != null && activation.isTextual()
                && ReferenceConfig.FOREIGN_ACTIVATIONS.contains(activation.asText().toLowerCase(java.util.Locale.ROOT))) {
            found.add(name + " says activation: " + activation.asText());
        }
        if (keysCount) {
            Set<String> keys = new TreeSet<>();
            config.fieldNames().forEachRemaining(k -> {
                if (CLT_TRAINING_KEYS.contains(k)) {
                    keys.add(k);
                }
            });
            if (!keys.isEmpty()) {
                found.add(name + " has clt-training's keys " + keys);
            }
        }
    }

    private static void tensorEvidence(Path file, Path directory, List<String> found) {
        if (!Files.isRegularFile(file)) {
            return;
        }
        try (SafetensorsFile open = SafetensorsFile.open(file)) {
            List<String> names = names(open);
            if (!names.isEmpty()) {
                found.add("tensor" + (names.size() == 1 ? " " : "s ") + String.join(", ", names) + " in "
                        + directory.relativize(file));
            }
        } catch (RuntimeException e) {
            // not ours to judge: the reader names unreadable files
        }
    }

    /** The clt-training tensor names of {@code file} (at most three). */
    static List<String> names(SafetensorsFile file) {
        return file.names().stream().filter(n -> CLT_TRAINING_TENSOR.matcher(n).matches()).sorted().limit(3).toList();
    }

    /** {@code layer_0}, {@code W_enc_0}, {@code W_dec_0}, else the first few {@code .safetensors} files by name. */
    private static List<Path> topLevelSafetensors(Path directory) throws IOException {
        List<Path> standard = Stream.of("layer_0", "W_enc_0", "W_dec_0")
                .map(n -> directory.resolve(n + LayerFiles.SUFFIX)).filter(Files::isRegularFile).toList();
        if (!standard.isEmpty()) {
            return standard;
        }
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.filter(p -> p.getFileName().toString().endsWith(LayerFiles.SUFFIX))
                    .filter(Files::isRegularFile).sorted().limit(MAX_FILES).toList();
        }
    }

    /** The first few sub-directories holding {@code sae.safetensors} or {@code cfg.json}, by name. */
    private static List<Path> hookPointDirectories(Path directory) throws IOException {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.filter(Files::isDirectory).filter(d -> Files.isRegularFile(d.resolve("sae.safetensors"))
                    || Files.isRegularFile(d.resolve("cfg.json"))).sorted().limit(MAX_FILES).toList();
        }
    }
}
