package org.circuittracer.transcoders.saelens;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.common.FormatOptions;
import org.circuittracer.transcoders.common.JsonFiles;
import org.circuittracer.transcoders.common.Nonlinearity;
import org.circuittracer.transcoders.common.Transcoders;

/**
 * What one SAELens {@code cfg.json} says about its transcoder, checked: SAELens 3–6 spellings (hook names at the top
 * level or under {@code metadata}; TopK's {@code k} at the top level or in {@code activation_fn_kwargs}).
 *
 * <p>Accepted: the architectures {@code transcoder}, {@code skip_transcoder} (ReLU), {@code jumprelu_transcoder},
 * {@code jumprelu_skip_transcoder} (SAELens 6's class for GemmaScope 2 transcoders: JumpReLU, {@code threshold},
 * {@code W_skip [d_out, d_in]}), and
 * {@code standard} (ReLU, or TopK with {@code activation_fn_str: topk}), {@code jumprelu} and {@code topk} when the
 * config makes them transcoders ({@code d_out} or {@code hook_name_out}). TopK is SAELens's ReLU after TopK; JumpReLU
 * is SAELens's {@code ReLU(h)·[h > θ]}. Refused with a reason (UNSUPPORTED_ARCHITECTURE): plain SAEs (they
 * reconstruct their own input, which attribution has no use for), other architectures (gated, batchtopk, …), input
 * normalisation, attention-head hooks, decoder-norm rescaling, fine-tuning scale factors, and an input width
 * {@code d_in} other than the output width.
 *
 * <p>Sites: {@code blocks.N.} followed by one of our hook names ({@code ln2.hook_normalized}, {@code mlp.hook_in},
 * {@code hook_resid_mid}; {@code hook_mlp_out}, {@code mlp.hook_out}), or {@code blocks.N.hook_mlp_in}, SAELens's
 * spelling of the MLP input for GemmaScope 2 ({@link #HOOK_MLP_IN}). An input hook {@code ln2.hook_normalized} whose
 * {@code hf_hook_name} is the Hugging Face pre-MLP norm module's output (which includes the norm's gain) reads
 * {@code mlp.hook_in}: that is what SAELens's first GemmaScope 2 loader wrote for weights trained on that output.
 *
 * @param directory   the SAE's directory
 * @param layer       the model layer it reads and writes
 * @param readSite    its input site
 * @param writeSite   its output site
 * @param width       {@code d_in = d_out}
 * @param features    {@code d_sae}
 * @param activation  ReLU, JumpReLU ({@code threshold} tensor) or ReLU after TopK
 * @param skip        whether it has {@code W_skip [d_out, d_in]}
 */
record SaeLensTranscoder(Path directory, int layer, SiteKind readSite, SiteKind writeSite, int width, int features,
                         ActivationFunction activation, boolean skip) {

    static final String CONFIG = "cfg.json";
    static final String WEIGHTS = "sae_weights.safetensors";

    private static final Set<String> TRANSCODER_ARCHITECTURES = Set.of("transcoder", "skip_transcoder",
            "jumprelu_transcoder", "jumprelu_skip_transcoder");
    private static final Set<String> SKIP_ARCHITECTURES = Set.of("skip_transcoder", "jumprelu_skip_transcoder");
    /**
     * SAELens's name for the MLP's input in GemmaScope 2 configs ({@code blocks.N.hook_mlp_in}, with
     * {@code hf_hook_name} {@code model.layers.N.pre_feedforward_layernorm.output}): the pre-MLP norm's output with its
     * gain, our {@code mlp.hook_in}. (TransformerLens's own {@code hook_mlp_in} is the residual before that norm; a
     * config whose {@code hf_hook_name} says so is refused rather than guessed.)
     */
    static final String HOOK_MLP_IN = "hook_mlp_in";
    private static final Pattern BLOCK = Pattern.compile("blocks\\.(0|[1-9][0-9]{0,5})\\.(.+)");

    SaeLensTranscoder {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(activation, "activation");
    }

    /** Reads {@code directory/cfg.json}; options override the sites. */
    static SaeLensTranscoder read(Path directory, FormatOptions options) {
        JsonFiles cfg = JsonFiles.read(directory.resolve(CONFIG));
        String architecture = cfg.text("architecture").orElse("standard");
        int dIn = cfg.requiredInteger("d_in");
        int dSae = cfg.requiredInteger("d_sae");
        Optional<String> hookName = cfg.text("hook_name").or(() -> cfg.text("metadata.hook_name"));
        Optional<String> hookNameOut = cfg.text("hook_name_out").or(() -> cfg.text("metadata.hook_name_out"));
        boolean transcoder = TRANSCODER_ARCHITECTURES.contains(architecture) || cfg.node("d_out").isPresent()
                || hookNameOut.isPresent();
        if (!transcoder) {
            throw refused(cfg, "is a plain SAE (architecture '" + architecture + "', no d_out or hook_name_out): it "
                    + "reconstructs its own input" + hookName.map(h -> " at " + h).orElse("") + ", which attribution "
                    + "cannot use. Only SAELens transcoders are read (architectures transcoder, skip_transcoder, "
                    + "jumprelu_transcoder, or a config with d_out and hook_name_out)");
        }
        int dOut = cfg.integer("d_out").orElse(dIn);
        if (dIn < 1 || dSae < 1) {
            throw malformed(cfg, "has d_in = " + dIn + " and d_sae = " + dSae + "; both must be at least 1");
        }
        if (dOut != dIn) {
            throw refused(cfg, "has d_in = " + dIn + " but d_out = " + dOut + "; a transcoder here reads and "
                    + "writes the model width, so d_in = d_out");
        }
        checkUnsupportedSettings(cfg, architecture);
        ActivationFunction activation = activation(cfg, architecture);
        int layer = layer(cfg, hookName, hookNameOut);
        SiteKind readSite = options.readSite().orElseGet(() -> site(cfg, "hook_name", hookName,
                Transcoders.INPUT_SITES, FormatOptions.READ_SITE));
        SiteKind writeSite = options.writeSite().orElseGet(() -> site(cfg, "hook_name_out", hookNameOut,
                Transcoders.OUTPUT_SITES, FormatOptions.WRITE_SITE));
        return new SaeLensTranscoder(directory, layer, readSite, writeSite, dIn, dSae, activation,
                SKIP_ARCHITECTURES.contains(architecture));
    }

    private static void checkUnsupportedSettings(JsonFiles cfg, String architecture) {
        String normalize = cfg.text("normalize_activations").orElse("none");
        if (!normalize.equals("none")) {
            throw refused(cfg, "has normalize_activations: " + normalize + "; inputs rescaled at run time are not "
                    + "linear, so only 'none' is read (fold a constant scale into the weights first)");
        }
        String reshape = cfg.text("reshape_activations").orElse("none");
        if (!reshape.equals("none")) {
            throw refused(cfg, "has reshape_activations: " + reshape + "; only MLP transcoders are read");
        }
        for (String head : new String[] {"hook_head_index", "metadata.hook_head_index", "hook_head_index_out"}) {
            if (cfg.node(head).isPresent()) {
                throw refused(cfg, "has " + head + "; transcoders of single attention heads are not read");
            }
        }
        if (cfg.flag("finetuning_scaling_factor")) {
            throw refused(cfg, "has finetuning_scaling_factor: true; fold the scaling factor into W_dec first");
        }
        if (cfg.flag("rescale_acts_by_decoder_norm")) {
            throw refused(cfg, "has rescale_acts_by_decoder_norm: true, which is not read");
        }
        // SAELens's Transcoder never subtracts b_dec (its width is the output's); other classes would.
        if (!TRANSCODER_ARCHITECTURES.contains(architecture) && cfg.flag("apply_b_dec_to_input")) {
            throw refused(cfg, "has apply_b_dec_to_input: true with architecture '" + architecture + "'; a "
                    + "transcoder's b_dec belongs to its output, so it cannot be subtracted from the input");
        }
    }

    private static ActivationFunction activation(JsonFiles cfg, String architecture) {
        String base = switch (architecture) {
            case "transcoder", "skip_transcoder" -> "standard";
            case "jumprelu_transcoder", "jumprelu_skip_transcoder" -> "jumprelu";
            default -> architecture;
        };
        switch (base) {
            case "standard" -> {
                String function = cfg.text("activation_fn_str").or(() -> cfg.text("activation_fn")).orElse("relu");
                if (function.equals("relu")) {
                    return new ActivationFunction.Relu();
                }
                if (function.equals("topk")) {
                    return Nonlinearity.ReluTopK.function(k(cfg));
                }
                throw refused(cfg, "has activation function '" + function + "'; relu and topk are read");
            }
            case "jumprelu" -> {
                return new ActivationFunction.JumpRelu();
            }
            case "topk" -> {
                return Nonlinearity.ReluTopK.function(k(cfg));
            }
            default -> throw refused(cfg, "has architecture '" + architecture + "', which is not read; the "
                    + "architectures read are standard, jumprelu, topk, transcoder, skip_transcoder, "
                    + "jumprelu_transcoder and jumprelu_skip_transcoder");
        }
    }

    private static int k(JsonFiles cfg) {
        String key = cfg.node("k").isPresent() ? "k" : "activation_fn_kwargs.k";
        int k = cfg.integer(key).orElseThrow(() -> malformed(cfg, "is a TopK transcoder without k (neither k nor "
                + "activation_fn_kwargs.k)"));
        if (k < 1) {
            throw cfg.error(key, "must be at least 1, got " + k);
        }
        return k;
    }

    /** The layer: {@code hook_layer}, else the {@code blocks.N.} of the hook name; the output's must agree. */
    private static int layer(JsonFiles cfg, Optional<String> hookName, Optional<String> hookNameOut) {
        Optional<Integer> fromName = hookName.flatMap(SaeLensTranscoder::blockOf);
        int layer = cfg.integer("hook_layer").isPresent() ? cfg.integer("hook_layer").getAsInt()
                : fromName.orElseThrow(() -> malformed(cfg, "names no layer: neither hook_layer nor a hook_name "
                + "like blocks.3.ln2.hook_normalized"));
        for (Optional<Integer> other : java.util.List.of(fromName, hookNameOut.flatMap(SaeLensTranscoder::blockOf),
                cfg.integer("hook_layer_out").isPresent() ? Optional.of(cfg.integer("hook_layer_out").getAsInt())
                        : Optional.<Integer>empty())) {
            if (other.isPresent() && other.get() != layer) {
                throw refused(cfg, "reads layer " + layer + " but names layer " + other.get() + " for "
                        + (hookNameOut.isPresent() ? "its output (" + hookNameOut.get() + ")" : "its hooks")
                        + "; a transcoder here reads and writes one layer");
            }
        }
        return layer;
    }

    private static Optional<Integer> blockOf(String hookName) {
        Matcher m = BLOCK.matcher(hookName);
        return m.matches() ? Optional.of(Integer.parseInt(m.group(1))) : Optional.empty();
    }

    private static SiteKind site(JsonFiles cfg, String key, Optional<String> hookName, Set<SiteKind> allowed,
                                 String option) {
        String name = hookName.orElseThrow(() -> malformed(cfg, "has no " + key + "; pass the option " + option
                + " (e.g. " + (option.equals(FormatOptions.READ_SITE) ? "ln2.hook_normalized" : "hook_mlp_out")
                + ")"));
        Matcher m = BLOCK.matcher(name);
        Optional<String> hf = cfg.text("hf_hook_name").or(() -> cfg.text("metadata.hf_hook_name"));
        if (m.matches() && m.group(2).equals(SiteKind.LN2_NORMALIZED.hookName()) && allowed.contains(SiteKind.MLP_IN)
                && hf.isPresent() && isPreMlpNormOutput(hf.get())) {
            // SAELens's first GemmaScope 2 loader wrote ln2.hook_normalized (TransformerLens: before the norm's gain)
            // for transcoders trained on the Hugging Face norm module's output (after its gain): the latter is what
            // the weights expect, and what SAELens itself corrected the name to (hook_mlp_in)
            return SiteKind.MLP_IN;
        }
        if (m.matches() && m.group(2).equals(HOOK_MLP_IN) && allowed.contains(SiteKind.MLP_IN)) {
            if (hf.isPresent() && !isPreMlpNormOutput(hf.get())) {
                throw malformed(cfg, "has " + key + " '" + name + "' with hf_hook_name '" + hf.get() + "', which is "
                        + "not the output of the pre-MLP norm (…pre_feedforward_layernorm.output, "
                        + "…post_attention_layernorm.output, …ln_2.output), so which site it reads is not known; pass "
                        + "the option " + option);
            }
            return SiteKind.MLP_IN;
        }
        Optional<SiteKind> kind = m.matches() ? SiteKind.fromHookName(m.group(2)).filter(allowed::contains)
                : Optional.empty();
        return kind.orElseThrow(() -> malformed(cfg, "has " + key + " '" + name + "', which is not a site a transcoder "
                + (option.equals(FormatOptions.READ_SITE) ? "reads" : "writes") + " (blocks.N. followed by one of "
                + allowed.stream().map(SiteKind::hookName).sorted().toList() + "); pass the option " + option
                + " to say which it is"));
    }

    /** Whether a Hugging Face module path names the pre-MLP norm's output (Gemma, Llama/Qwen, GPT-2 spellings). */
    private static boolean isPreMlpNormOutput(String hfHookName) {
        return hfHookName.endsWith(".pre_feedforward_layernorm.output")
                || hfHookName.endsWith(".post_attention_layernorm.output") || hfHookName.endsWith(".ln_2.output");
    }

    /** What this reader does not compute (UNSUPPORTED_ARCHITECTURE). */
    private static CircuitTracerException refused(JsonFiles cfg, String problem) {
        return new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, cfg.file() + " " + problem + ".");
    }

    /** A config that is incomplete or inconsistent (MALFORMED_FILE). */
    private static CircuitTracerException malformed(JsonFiles cfg, String problem) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, cfg.file() + " " + problem + ".");
    }
}
