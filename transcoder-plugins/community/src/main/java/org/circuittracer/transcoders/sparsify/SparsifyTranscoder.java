package org.circuittracer.transcoders.sparsify;

import java.nio.file.Path;
import java.util.Objects;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.community.FormatOptions;
import org.circuittracer.transcoders.community.JsonFiles;

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
 * <p>Refused with a reason (UNSUPPORTED_ARCHITECTURE): plain SAEs ({@code transcode: false}), {@code groupmax}
 * activations, {@code embed_skip} and {@code gram_lookup}.
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
 */
record SparsifyTranscoder(Path directory, String hookpoint, int layer, SiteKind readSite, SiteKind writeSite,
                          int width, int features, int k, boolean skip) {

    static final String CONFIG = "cfg.json";
    static final String WEIGHTS = "sae.safetensors";

    SparsifyTranscoder {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(hookpoint, "hookpoint");
    }

    static SparsifyTranscoder read(Path directory, FormatOptions options) {
        JsonFiles cfg = JsonFiles.read(directory.resolve(CONFIG));
        String hookpoint = directory.getFileName().toString();
        if (!cfg.flag("transcode")) {
            throw refused(cfg, "is a plain sparse autoencoder (transcode: false): it reconstructs its own input at "
                    + hookpoint + ", which attribution cannot use; only transcoders (transcode: true) are read");
        }
        String activation = cfg.text("activation").orElse("topk");
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
        int features = latents > 0 ? latents : Math.multiplyExact(width, cfg.integer("expansion_factor").orElse(32));
        int k = cfg.integer("k").orElse(32);
        if (width < 1 || features < 1 || k < 1) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, cfg.file() + " has d_in = " + width
                    + ", " + features + " latents and k = " + k + "; each must be at least 1.");
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
                cfg.flag("skip_connection"));
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
