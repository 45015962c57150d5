package org.circuittracer.transcoders.gemmascope;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.common.FormatOptions;
import org.circuittracer.transcoders.common.JsonFiles;
import org.circuittracer.transcoders.common.Layers;
import org.circuittracer.transcoders.common.Resources;
import org.circuittracer.transcoders.common.RowMatrix;
import org.circuittracer.transcoders.common.TensorChecks;
import org.circuittracer.transcoders.common.TranscoderDictionary;
import org.circuittracer.transcoders.common.Transcoders;
import org.circuittracer.transcoders.common.WeightVector;

/**
 * Reads GemmaScope 2 transcoders as Google publishes them ({@code google/gemma-scope-2-*}, folder
 * {@code transcoder_all/layer_N_width_16k_l0_small[_affine]/}): per layer {@code params.safetensors} with
 * {@code w_enc [d, F]} (used as stored: it is {@code W_encᵀ}), {@code w_dec [F, d]}, {@code b_enc [F]},
 * {@code b_dec [d]}, {@code threshold [F]} and, for affine transcoders ({@code affine_connection: true}),
 * {@code affine_skip_connection [d, d]} applied as {@code x @ A} (Google's code; not transposed), and
 * {@code config.json} ({@code architecture: jump_relu}, {@code hf_hook_point_in}, {@code hf_hook_point_out},
 * {@code affine_connection}, {@code model_name}). The encoder is Google's {@code (h > θ)·ReLU(h)}, read as JumpReLU with
 * threshold {@code max(θ, 0)} (identical).
 *
 * <p>A dictionary is a directory with one such folder per layer (a release holds several widths and L0s per layer:
 * make a directory of symbolic links). The layer is the {@code N} of {@code model.layers.N.} in the hook points (else
 * of {@code layer_N} in the folder's name); the sites come from the hook points: {@code …pre_feedforward_layernorm.output}
 * (after the norm's gain) is {@code mlp.hook_in}, {@code …post_feedforward_layernorm.output} is {@code hook_mlp_out},
 * {@code …mlp.output} is {@code mlp.hook_out}; others need the options. Refused: SAEs (no {@code hf_hook_point_out}),
 * architectures other than {@code jump_relu}, and the cross-layer transcoders ({@code clt/}, a decoder
 * {@code w_dec [F, L, d]}).
 */
final class GemmaScope2Reader {

    static final String WEIGHTS = "params.safetensors";
    static final String CONFIG = "config.json";
    private static final Pattern HF_LAYER = Pattern.compile("(?:^|\\.)layers\\.(0|[1-9][0-9]{0,5})\\.(.+)");
    private static final Pattern FOLDER_LAYER = Pattern.compile("layer_(0|[1-9][0-9]{0,5})(?:_.*)?");

    private GemmaScope2Reader() {
    }

    /** One layer's folder, its configuration checked. */
    record Member(Path directory, int layer, SiteKind readSite, SiteKind writeSite, boolean affine) {
    }

    static TranscoderDictionary open(DictionarySource source) {
        Path directory = source.directory();
        FormatOptions options = FormatOptions.of(source, GemmaScope2Provider.NAME);
        if (Layers.holds(directory, WEIGHTS)) {
            Member one = member(directory, options);
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, directory + " is a single GemmaScope "
                    + "2 transcoder (layer " + one.layer() + "); a dictionary covers every layer. Put one directory per "
                    + "layer under a common parent (symbolic links work) and open the parent.");
        }
        List<Path> folders = Layers.subdirectories(directory, sub -> Files.isRegularFile(sub.resolve(WEIGHTS)));
        if (folders.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, directory + " holds no GemmaScope 2 "
                    + "transcoders: expected one sub-directory per layer with " + WEIGHTS + " and " + CONFIG + ".");
        }
        TreeMap<Integer, Member> byLayer = new TreeMap<>();
        for (Path folder : folders) {
            Member m = member(folder, options);
            Layers.put(byLayer, m.layer(), m, Optional.ofNullable(byLayer.get(m.layer())).map(Member::directory)
                    .orElse(null), folder, "GemmaScope 2 transcoder");
        }
        List<Member> layers = Layers.contiguous(byLayer, "GemmaScope 2 transcoder", directory);
        Member first = layers.get(0);
        for (Member m : layers) {
            if (m.readSite() != first.readSite() || m.writeSite() != first.writeSite()) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, m.directory() + " reads "
                        + m.readSite().hookName() + " and writes " + m.writeSite().hookName() + ", but "
                        + first.directory() + " reads " + first.readSite().hookName() + " and writes "
                        + first.writeSite().hookName() + "; every layer of a dictionary reads and writes the same sites.");
            }
        }
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            List<Transcoders.SourceLayer> sources = new ArrayList<>();
            List<Transcoders.OutputLayer> outputs = new ArrayList<>();
            int width = -1;
            for (Member m : layers) {
                Path path = m.directory().resolve(WEIGHTS);
                SafetensorsFile file = SafetensorsFile.open(path);
                opened.add(file);
                if (file.contains("w_dec") && file.info("w_dec").rank() == 3) {
                    throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "unsupported format: "
                            + path + " has w_dec " + file.info("w_dec").shapeString() + ", a GemmaScope 2 cross-layer "
                            + "transcoder (clt/), which this reader does not read; convert it to the reference CLT "
                            + "format.");
                }
                int d = dimension(file, "b_dec", path);
                int f = dimension(file, "b_enc", path);
                if (width >= 0 && d != width) {
                    throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, path + " has width d = " + d
                            + " (b_dec) but " + first.directory() + " has " + width + "; all layers share d.");
                }
                width = d;
                Map<String, long[]> required = new LinkedHashMap<>();
                required.put("w_enc", new long[] {d, f});
                required.put("w_dec", new long[] {f, d});
                required.put("b_enc", new long[] {f});
                required.put("b_dec", new long[] {d});
                required.put("threshold", new long[] {f});
                if (m.affine()) {
                    required.put("affine_skip_connection", new long[] {d, d});
                }
                TensorChecks.check(file, path, required, Map.of(), "d = " + d + " from b_dec, F = " + f
                        + " from b_enc, affine_connection " + m.affine() + " from " + CONFIG);
                WeightVector stored = WeightVector.read(file, "threshold");
                float[] theta = stored.values().clone();
                for (int i = 0; i < theta.length; i++) {
                    theta[i] = theta[i] < 0 ? 0f : theta[i]; // (h > θ)·ReLU(h) is h·[h > max(θ, 0)]
                }
                sources.add(new Transcoders.SourceLayer(RowMatrix.of(file, "w_enc"), WeightVector.read(file, "b_enc"),
                        new ActivationFunction.JumpRelu(), Optional.of(new WeightVector(theta, stored.origin())),
                        List.of(RowMatrix.of(file, "w_dec")), true));
                outputs.add(new Transcoders.OutputLayer(WeightVector.read(file, "b_dec"), m.affine()
                        ? Optional.of(new Transcoders.Skip(RowMatrix.of(file, "affine_skip_connection"), false))
                        : Optional.empty()));
            }
            Transcoders spec = new Transcoders(GemmaScope2Provider.NAME, options.scanOr(source), first.readSite(),
                    first.writeSite(), width, sources, outputs);
            return TranscoderDictionary.open(spec, source.lazyEncoder(), source.lazyDecoder(), Optional.empty(),
                    opened);
        } catch (RuntimeException e) {
            throw Resources.closeAfter(e, opened);
        }
    }

    /** Reads {@code folder/config.json}; options override the sites. */
    static Member member(Path folder, FormatOptions options) {
        JsonFiles cfg = JsonFiles.read(folder.resolve(CONFIG));
        String architecture = cfg.text("architecture").orElse("jump_relu");
        if (!architecture.equals("jump_relu")) {
            throw refused(cfg, "has architecture '" + architecture + "'; GemmaScope 2 transcoders are jump_relu");
        }
        Optional<String> in = cfg.text("hf_hook_point_in");
        Optional<String> out = cfg.text("hf_hook_point_out");
        if (out.isEmpty()) {
            throw refused(cfg, "has no hf_hook_point_out: it is a sparse autoencoder" + in.map(h -> " of " + h)
                    .orElse("") + ", which reconstructs its own input and attribution cannot use; only transcoders "
                    + "(transcoder_all/, transcoder/) are read");
        }
        Optional<Integer> inLayer = in.flatMap(GemmaScope2Reader::layerOf);
        Optional<Integer> outLayer = out.flatMap(GemmaScope2Reader::layerOf);
        if (inLayer.isPresent() && outLayer.isPresent() && !inLayer.equals(outLayer)) {
            throw refused(cfg, "reads layer " + inLayer.get() + " (" + in.get() + ") but writes layer " + outLayer.get()
                    + " (" + out.get() + "); a transcoder here reads and writes one layer");
        }
        Matcher folderName = FOLDER_LAYER.matcher(folder.getFileName().toString());
        int layer = inLayer.or(() -> outLayer).orElseGet(() -> {
            if (!folderName.matches()) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, cfg.file() + " names no layer: "
                        + "neither hook point is model.layers.N.… and the folder is not named layer_N_….");
            }
            return Integer.parseInt(folderName.group(1));
        });
        SiteKind readSite = options.readSite().orElseGet(() -> site(cfg, "hf_hook_point_in", in, FormatOptions.READ_SITE,
                Map.of("pre_feedforward_layernorm.output", SiteKind.MLP_IN,
                        "post_attention_layernorm.output", SiteKind.MLP_IN)));
        SiteKind writeSite = options.writeSite().orElseGet(() -> site(cfg, "hf_hook_point_out", out,
                FormatOptions.WRITE_SITE, Map.of("post_feedforward_layernorm.output", SiteKind.MLP_OUT,
                        "mlp.output", SiteKind.MLP_OUT_RAW)));
        return new Member(folder, layer, readSite, writeSite, cfg.flag("affine_connection"));
    }

    private static Optional<Integer> layerOf(String hookPoint) {
        Matcher m = HF_LAYER.matcher(hookPoint);
        return m.find() ? Optional.of(Integer.parseInt(m.group(1))) : Optional.empty();
    }

    private static SiteKind site(JsonFiles cfg, String key, Optional<String> hookPoint, String option,
                                 Map<String, SiteKind> known) {
        Optional<SiteKind> kind = hookPoint.flatMap(h -> {
            Matcher m = HF_LAYER.matcher(h);
            return m.find() ? Optional.ofNullable(known.get(m.group(2))) : Optional.empty();
        });
        return kind.orElseThrow(() -> new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, cfg.file()
                + " has " + key + " " + hookPoint.map(h -> "'" + h + "'").orElse("missing") + ", which is not a site "
                + "this reader knows (model.layers.N. followed by one of " + known.keySet().stream().sorted().toList()
                + "); pass the option " + option + "."));
    }

    private static int dimension(SafetensorsFile file, String vector, Path path) {
        if (!file.contains(vector) || file.info(vector).rank() != 1) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, path + " has "
                    + (file.contains(vector) ? vector + " of shape " + file.info(vector).shapeString() : "no " + vector)
                    + "; a GemmaScope 2 params.safetensors holds w_enc [d, F], w_dec [F, d], b_enc [F], b_dec [d], "
                    + "threshold [F] and, if affine, affine_skip_connection [d, d].");
        }
        return Math.toIntExact(file.info(vector).dim(0));
    }

    private static CircuitTracerException refused(JsonFiles cfg, String problem) {
        return new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, cfg.file() + " " + problem + ".");
    }
}
