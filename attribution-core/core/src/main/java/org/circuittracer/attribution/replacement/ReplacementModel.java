package org.circuittracer.attribution.replacement;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.circuittracer.spi.Capability;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.LinearMap;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;

/**
 * A transformer paired with a sparse dictionary that fits it: the local replacement model of docs/reference/algorithm.md §2. The
 * forward values are the real model's; the dictionary decides which feature nodes exist, how they are read and written,
 * and the error vector of every (layer, position). Neither the model nor the dictionary is owned: closing them stays
 * with the caller. Thread-safe as far as the model and dictionary are.
 */
public final class ReplacementModel {

    private final TransformerModel model;
    private final SparseDictionary dictionary;
    /** For each output layer m, the source layers whose features write to it (ascending). */
    private final List<int[]> writersByOutputLayer;

    private ReplacementModel(TransformerModel model, SparseDictionary dictionary, List<int[]> writersByOutputLayer) {
        this.model = model;
        this.dictionary = dictionary;
        this.writersByOutputLayer = writersByOutputLayer;
    }

    /**
     * Pairs a model with a dictionary.
     *
     * @throws CircuitTracerException INCOMPATIBLE_INPUTS when the layer counts or widths differ, or the model lacks a
     *         site the dictionary reads or writes (or the embedding and unembedding sites attribution needs)
     */
    public static ReplacementModel of(TransformerModel model, SparseDictionary dictionary) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(dictionary, "dictionary");
        ModelConfig config = model.config();
        String pair = "The dictionary '" + dictionary.scan() + "' (format " + dictionary.formatName() + ")";
        String target = "the model '" + config.modelName() + "' (" + config.architecture() + ", backend "
                + model.backendName() + ")";
        if (dictionary.layers() != config.layers()) {
            throw incompatible(pair + " has " + dictionary.layers() + " layers but " + target + " has "
                    + config.layers() + ". Use a dictionary trained for this model.");
        }
        if (dictionary.width() != config.modelWidth()) {
            throw incompatible(pair + " reads vectors of width " + dictionary.width() + " but " + target
                    + " has residual width " + config.modelWidth() + ". Use a dictionary trained for this model.");
        }
        Set<HookSite> exposed = new HashSet<>(model.sites());
        List<HookSite> needed = new ArrayList<>(dictionary.readSites());
        needed.addAll(dictionary.writeSites());
        needed.add(HookSite.global(SiteKind.EMBED));
        needed.add(HookSite.global(SiteKind.UNEMBED_IN));
        List<String> missing = needed.stream().filter(s -> !exposed.contains(s)).map(HookSite::toString).toList();
        if (!missing.isEmpty()) {
            throw incompatible(pair + " reads " + dictionary.readSite().hookName() + " and writes "
                    + dictionary.writeSite().hookName() + ", but " + target + " exposes no " + String.join(", ", missing)
                    + ". Choose a dictionary whose sites this model has (it exposes "
                    + model.sites().stream().map(HookSite::kind).distinct().map(SiteKind::hookName)
                    .collect(Collectors.joining(", ")) + ").");
        }
        List<List<Integer>> writers = new ArrayList<>();
        for (int m = 0; m < config.layers(); m++) {
            writers.add(new ArrayList<>());
        }
        for (int source = 0; source < config.layers(); source++) {
            for (int m : dictionary.outputLayers(source)) {
                writers.get(m).add(source);
            }
        }
        return new ReplacementModel(model, dictionary,
                writers.stream().map(w -> w.stream().mapToInt(Integer::intValue).toArray()).toList());
    }

    public TransformerModel model() {
        return model;
    }

    public SparseDictionary dictionary() {
        return dictionary;
    }

    /** {@code L}. */
    public int layers() {
        return model.config().layers();
    }

    /** The source layers whose features write to output layer {@code m}, ascending (just {@code m} for a PLT). */
    public int[] writersOf(int outputLayer) {
        return writersByOutputLayer.get(outputLayer).clone();
    }

    /** How the model is linearised for this dictionary: its read and write sites, and its skip maps. */
    public LinearizationSpec linearizationSpec() {
        Map<Integer, LinearMap> skips = new HashMap<>();
        for (int layer = 0; layer < layers(); layer++) {
            int l = layer;
            dictionary.skip(layer).ifPresent(s -> skips.put(l, s));
        }
        return new LinearizationSpec(dictionary.readSite(), dictionary.writeSite(), skips);
    }

    /** Tokenises a text for attribution: no special tokens, then the special-token rule ({@link PromptTokens}). */
    public TokenSequence tokenize(String text) {
        return PromptTokens.tokenize(text, model.tokenizer(), model.config().modelName());
    }

    /** Applies the special-token rule to token ids ({@link PromptTokens#prepare}); idempotent. */
    public TokenSequence prepare(TokenSequence tokens) {
        return PromptTokens.prepare(tokens, model.tokenizer(), model.config().modelName());
    }

    /** {@code Z} for a prompt: {@link PromptTokens#zeroedPositions}, restricted to the prompt's positions. */
    public Set<Integer> zeroedPositions(TokenSequence tokens) {
        return PromptTokens.zeroedPositions(model.config().modelName()).stream().filter(p -> p < tokens.length())
                .collect(Collectors.toUnmodifiableSet());
    }

    /** The sites {@link #activations(NDManager, TokenSequence, Map)} reads: read and write sites and {@code hook_embed}. */
    public List<HookSite> recordedSites() {
        List<HookSite> sites = new ArrayList<>(dictionary.readSites());
        sites.addAll(dictionary.writeSites());
        sites.add(HookSite.global(SiteKind.EMBED));
        return sites;
    }

    /**
     * Runs the real model on {@code tokens} (used as given: call {@link #prepare} first for attribution's rule) and
     * computes feature activations, error vectors and token vectors. Needs {@link BackendCapability#HOOKS}.
     *
     * @param manager owns the returned arrays
     */
    public ReplacementActivations activations(NDManager manager, TokenSequence tokens) {
        Capability.require("backend", model.backendName(), model.capabilities(), BackendCapability.HOOKS,
                "feature activations");
        try (NDManager scope = manager.newSubManager()) {
            var result = model.forward(scope, tokens, recordedSites().stream().<Hook>map(Hook.Capture::new).toList());
            Map<HookSite, NDArray> recorded = new HashMap<>(result.captured());
            recorded.put(HookSite.global(SiteKind.LOGITS), result.logits());
            return activations(manager, tokens, recorded);
        }
    }

    /**
     * The same from values a clean forward pass recorded (e.g. {@link org.circuittracer.spi.model.LinearizedModel#clean()}),
     * which must hold every site of {@link #recordedSites()} and {@code hook_logits}.
     *
     * @param manager owns the returned arrays
     */
    public ReplacementActivations activations(NDManager manager, TokenSequence tokens, Map<HookSite, NDArray> recorded) {
        Set<Integer> zeroed = zeroedPositions(tokens);
        List<SparseActivations> features = new ArrayList<>(layers());
        for (int layer = 0; layer < layers(); layer++) {
            features.add(dictionary.encodeSparse(manager, layer, require(recorded, dictionary.readSites().get(layer)),
                    zeroed));
        }
        NDArray errors;
        NDArray logits;
        NDArray tokenVectors;
        try (NDManager scope = manager.newSubManager()) {
            // temporarily owned by scope, so that everything derived from them is freed with it
            NDList inputs = new NDList();
            for (HookSite site : recordedSites()) {
                inputs.add(require(recorded, site));
            }
            inputs.add(require(recorded, HookSite.global(SiteKind.LOGITS)));
            scope.tempAttachAll(inputs);
            NDList perLayer = new NDList();
            for (int m = 0; m < layers(); m++) {
                List<SparseActivations> writing = new ArrayList<>();
                for (int source : writersByOutputLayer.get(m)) {
                    writing.add(features.get(source));
                }
                NDArray reconstruction = dictionary.decode(scope, m, writing,
                        require(recorded, dictionary.readSites().get(m)));
                NDArray error = require(recorded, dictionary.writeSites().get(m)).toType(DataType.FLOAT32, false)
                        .sub(reconstruction);
                for (int p : zeroed) {
                    error.set(new NDIndex(p), 0f);
                }
                perLayer.add(error);
            }
            errors = NDArrays.stack(perLayer);
            logits = require(recorded, HookSite.global(SiteKind.LOGITS)).toType(DataType.FLOAT32, true);
            tokenVectors = require(recorded, HookSite.global(SiteKind.EMBED)).toType(DataType.FLOAT32, true);
            errors.attach(manager);
            logits.attach(manager);
            tokenVectors.attach(manager);
        }
        return new ReplacementActivations(tokens, zeroed, logits, features, errors, tokenVectors);
    }

    private static NDArray require(Map<HookSite, NDArray> recorded, HookSite site) {
        NDArray value = recorded.get(site);
        if (value == null) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "The recorded forward pass lacks " + site
                    + ", which the replacement model needs.");
        }
        return value;
    }

    private static CircuitTracerException incompatible(String message) {
        return new CircuitTracerException(StandardErrorCode.INCOMPATIBLE_INPUTS, message);
    }

    @Override
    public String toString() {
        return "ReplacementModel[" + model.config().modelName() + " + " + dictionary.scan() + "]";
    }
}
