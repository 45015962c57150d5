package org.circuittracer.transcoders.sparsify;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.common.FormatOptions;
import org.circuittracer.transcoders.common.JsonFiles;

/**
 * One sparsify hook point, {@code <hookpoint>/cfg.json}, checked. sparsify's encoder is always
 * {@code TopK(ReLU(x·W_encᵀ + b_enc))} (ReLU after TopK); a transcoder ({@code transcode: true}) predicts the hooked
 * module's output from its input.
 *
 * <p><b>Layer and sites.</b> The layer is the first all-digit component of the hook point's name ({@code layers.3.mlp},
 * {@code model.layers.3.mlp}, {@code gpt_neox.layers.3.mlp}, {@code h.3.mlp} → 3). A hook point whose last component
 * is {@code mlp} is an MLP module: its transcoder reads the MLP's input ({@code mlp.hook_in}, after the pre-MLP norm
 * and its gain) and writes the MLP module's output ({@code mlp.hook_out}, before any post-MLP norm). Other hook points
 * need the {@code readSite} and {@code writeSite} options.
 *
 * <p><b>Checkpoints written before 2025-02-12.</b> {@code cfg.json} held only the coder's
 * own settings ({@code expansion_factor}, {@code normalize_decoder}, {@code num_latents}, {@code k},
 * {@code multi_topk}, {@code skip_connection}, {@code d_in}): whether it transcodes was only in the run's
 * {@code config.json} ({@code "transcode"} at its top level), written beside the hook point directories. And the
 * encoder of those versions always centred its input, {@code h = (x − b_dec)·W_encᵀ + b_enc}, transcoder or not
 * (commit f02711e, "fix decoder bias on transcoders", made it SAE-only, and wrote {@code transcode} into
 * {@code cfg.json}). So a {@code cfg.json} without {@code transcode} reads the flag from {@code ../config.json}
 * ({@code transcode} or {@code sae.transcode}) and has {@code centresInput}: the reader folds the centring into the
 * encoder bias, {@code b_enc' = b_enc − W_enc·b_dec}, which is exact.
 *
 * <p>Refused with a reason (UNSUPPORTED_ARCHITECTURE): plain SAEs ({@code transcode: false}, or no flag anywhere),
 * {@code groupmax} activations, {@code embed_skip} and {@code gram_lookup}; and, with a message starting
 * "unsupported format: ", checkpoints of the unreleased {@code clt} branch (see {@link #checkNotCrossLayer}).
 *
 * @param directory the hook point's directory
 * @param hookpoint its name
 * @param layer     the model layer
 * @param readSite  the input site
 * @param writeSite the output site
 * @param width     {@code d_in}
 * @param features  {@code num_latents} (or {@code expansion_factor · d_in})
 * @param k         latents kept per position
 * @param skip      whether it has {@code W_skip [d_in, d_in]}
 * @param centresInput whether the encoder subtracts {@code b_dec} from its input (written before 2025-02-12)
 */
record SparsifyTranscoder(Path directory, String hookpoint, int layer, SiteKind readSite, SiteKind writeSite,
                          int width, int features, int k, boolean skip, boolean centresInput) {

    static final String CONFIG = "cfg.json";
    static final String WEIGHTS = "sae.safetensors";
    /** The training run's configuration, which sparsify writes beside the hook point directories. */
    static final String RUN_CONFIG = "config.json";

    /**
     * Keys that only the {@code clt} branch of sparsify writes into {@code cfg.json} (its {@code SparseCoderConfig}
     * grew them for cross-layer and multi-target coders); none is in a released sparsify.
     */
    static final List<String> CROSS_LAYER_KEYS = List.of("n_targets", "n_sources", "coalesce_topk",
            "topk_coalesced", "normalize_io", "divide_cross_layer", "train_post_encoder", "post_encoder_scale");

    /** The prefix of every refusal of a checkpoint that is not this format's, though it looks like it. */
    static final String UNSUPPORTED_FORMAT = "unsupported format: ";

    SparsifyTranscoder {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(hookpoint, "hookpoint");
    }

    static SparsifyTranscoder read(Path directory, FormatOptions options, Optional<JsonFiles> runConfig) {
        JsonFiles cfg = JsonFiles.read(directory.resolve(CONFIG));
        String hookpoint = directory.getFileName().toString();
        checkNotCrossLayer(cfg, runConfig);
        boolean transcode;
        boolean centresInput;
        if (cfg.node("transcode").isPresent()) {
            // sparsify from 2025-02-12 on (all releases): never centres a transcoder's input
            transcode = cfg.flag("transcode");
            centresInput = false;
        } else {
            // written before 2025-02-12: the flag was only in the run's config.json, and the encoder always
            // subtracted b_dec from its input, transcoder or not
            transcode = runConfig.map(SparsifyTranscoder::runTranscodes).orElseThrow(() -> refused(cfg, "has no "
                    + "'transcode' (written by sparsify before 2025-02-12, when only the training run's "
                    + RUN_CONFIG + " said whether it transcodes) and " + directory.getParent().resolve(RUN_CONFIG)
                    + " does not exist, so it is taken for a plain sparse autoencoder, which attribution cannot "
                    + "use; if it is a transcoder, put the run's " + RUN_CONFIG + " (with \"transcode\": true) "
                    + "beside the hook point directories"));
            centresInput = true;
        }
        if (!transcode) {
            throw refused(cfg, "is a plain sparse autoencoder (transcode: false" + (cfg.node("transcode").isPresent()
                    ? "" : " in " + runConfig.map(JsonFiles::file).map(Path::toString).orElse(RUN_CONFIG))
                    + "): it reconstructs its own input at " + hookpoint + ", which attribution cannot use; only "
                    + "transcoders (transcode: true) are read");
        }
        String activation = cfg.text("activation").orElse("topk");
        if (!activation.equals("topk") && !activation.equals("groupmax")) {
            // jumprelu, binary, topk_binary, groupmax_decay, batchtopk: sparsify branches and forks, never released
            throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, UNSUPPORTED_FORMAT
                    + cfg.file() + " has activation '" + activation + "', which no released sparsify writes (they "
                    + "write topk or groupmax): it comes from an unreleased branch or a fork such as "
                    + "EleutherAI/clt-training, whose layouts this reader does not read.");
        }
        if (!activation.equals("topk")) {
            throw refused(cfg, "has activation '" + activation + "'; only topk is read");
        }
        for (String flag : new String[] {"embed_skip", "gram_lookup"}) {
            if (cfg.flag(flag)) {
                throw refused(cfg, "has " + flag + ": true, which adds inputs other than the hook point's; not read");
            }
        }
        int width = cfg.requiredInteger("d_in");
        int latents = cfg.integer("num_latents").orElse(0);
        int expansion = cfg.integer("expansion_factor").orElse(32);
        if (latents <= 0 && (long) width * expansion > Integer.MAX_VALUE) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, cfg.file() + " has d_in = " + width
                    + " and expansion_factor = " + expansion + ", which make more latents than a dictionary can hold ("
                    + Integer.MAX_VALUE + "); give num_latents.");
        }
        int features = latents > 0 ? latents : width * expansion;
        int k = cfg.integer("k").orElse(32);
        if (width < 1 || features < 1 || k < 1) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, cfg.file() + " has d_in = " + width
                    + ", " + features + " latents and k = " + k + "; each must be at least 1.");
        }
        if (k > features) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, cfg.file() + " has k = " + k + " but "
                    + features + " latents; TopK keeps at most as many latents as there are.");
        }
        int layer = layerOf(hookpoint, cfg);
        boolean mlp = hookpoint.equals("mlp") || hookpoint.endsWith(".mlp");
        SiteKind readSite = options.readSite().orElseGet(() -> {
            if (!mlp) {
                throw notMlp(cfg, hookpoint);
            }
            return SiteKind.MLP_IN;
        });
        SiteKind writeSite = options.writeSite().orElseGet(() -> {
            if (!mlp) {
                throw notMlp(cfg, hookpoint);
            }
            return SiteKind.MLP_OUT_RAW;
        });
        return new SparsifyTranscoder(directory, hookpoint, layer, readSite, writeSite, width, features, k,
                cfg.flag("skip_connection"), centresInput);
    }

    /** {@code transcode} of a run's {@code config.json}: top level (before 2025-02-12) or under {@code sae}. */
    private static boolean runTranscodes(JsonFiles run) {
        return run.flag("transcode") || run.flag("sae.transcode");
    }

    /**
     * Refuses checkpoints of sparsify's unreleased {@code clt} branch: cross-layer and multi-target coders whose
     * {@code sae.safetensors} holds {@code W_decs.i}, {@code b_decs.i}, {@code W_skips.i}, {@code post_encs.i} (or
     * {@code post_enc}) and optionally {@code in_norm}/{@code out_norm}, recognised by their {@code cfg.json} keys or a
     * run config with {@code cross_layer > 0}.
     */
    static void checkNotCrossLayer(JsonFiles cfg, Optional<JsonFiles> runConfig) {
        List<String> keys = CROSS_LAYER_KEYS.stream().filter(key -> cfg.root().has(key)).toList();
        boolean crossLayerRun = runConfig.flatMap(run -> run.node("cross_layer"))
                .map(n -> n.isNumber() && n.asInt() != 0).orElse(false);
        if (!keys.isEmpty() || crossLayerRun) {
            throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, UNSUPPORTED_FORMAT
                    + cfg.file() + " was written by the clt branch of sparsify (cross-layer or multi-target sparse "
                    + "coders: " + (keys.isEmpty() ? "cross_layer in " + runConfig.get().file() : String.join(", ",
                    keys)) + "), an unreleased layout with per-target decoders (W_decs.i, b_decs.i, W_skips.i) and "
                    + "post-encoder biases that this reader does not compute; convert it to the reference CLT format "
                    + "first.");
        }
    }

    private static int layerOf(String hookpoint, JsonFiles cfg) {
        for (String part : hookpoint.split("\\.")) {
            if (!part.isEmpty() && part.length() <= 6 && part.chars().allMatch(Character::isDigit)) {
                return Integer.parseInt(part);
            }
        }
        throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, cfg.file().getParent() + ": the hook "
                + "point '" + hookpoint + "' names no layer (expected a number component, as in layers.3.mlp).");
    }

    private static CircuitTracerException notMlp(JsonFiles cfg, String hookpoint) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, cfg.file().getParent() + ": the hook "
                + "point '" + hookpoint + "' is not an MLP module (…mlp), so the sites it reads and writes are not "
                + "known; pass the options " + FormatOptions.READ_SITE + " and " + FormatOptions.WRITE_SITE + ".");
    }

    private static CircuitTracerException refused(JsonFiles cfg, String problem) {
        return new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, cfg.file() + " " + problem + ".");
    }
}
