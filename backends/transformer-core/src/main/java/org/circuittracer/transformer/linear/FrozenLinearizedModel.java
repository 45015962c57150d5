package org.circuittracer.transformer.linear;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.circuittracer.spi.model.HeadLoadings;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.QkAttribution;
import org.circuittracer.spi.model.QkQuery;
import org.circuittracer.spi.model.SourceWrites;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.VjpResult;
import org.circuittracer.spi.model.VjpSeeds;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;

/**
 * A model linearised around one prompt, whichever backend ran the clean pass: the clean values (owned by
 * {@code state}, a sub-manager closed with this object) and the {@link FrozenTransformer} the backend built from
 * them and its weights, whose {@link AdjointSweep} gives the VJP.
 */
public final class FrozenLinearizedModel implements LinearizedModel {

    private final TokenSequence tokens;
    private final LinearizationSpec spec;
    private final NDManager state;
    private final Map<HookSite, NDArray> clean;
    private final FrozenTransformer frozen;
    private final List<FrozenQueryKey> queryKeys;
    /** The sources' forward sweep, shared by the batches of one graph's head loadings. */
    private final SourceSweepCache sourceSweeps;

    /**
     * @param state  owns the clean values and the frozen model's arrays; closed by {@link #close()}
     * @param clean  the clean values by site (taken as given: a backend may hand a map that computes some lazily)
     */
    public FrozenLinearizedModel(TokenSequence tokens, LinearizationSpec spec, NDManager state,
                                 Map<HookSite, NDArray> clean, FrozenTransformer frozen) {
        this(tokens, spec, state, clean, frozen, List.of());
    }

    /**
     * @param queryKeys one per layer, for QK attribution ({@link #qkAttribution}); empty when the backend cannot give
     *                  them (the model then lacks the capability)
     */
    public FrozenLinearizedModel(TokenSequence tokens, LinearizationSpec spec, NDManager state,
                                 Map<HookSite, NDArray> clean, FrozenTransformer frozen,
                                 List<FrozenQueryKey> queryKeys) {
        this.tokens = Objects.requireNonNull(tokens, "tokens");
        this.spec = Objects.requireNonNull(spec, "spec");
        this.state = Objects.requireNonNull(state, "state");
        this.clean = Objects.requireNonNull(clean, "clean");
        this.frozen = Objects.requireNonNull(frozen, "frozen");
        this.queryKeys = List.copyOf(queryKeys);
        this.sourceSweeps = new SourceSweepCache(state);
        if (!this.queryKeys.isEmpty() && this.queryKeys.size() != frozen.layers().size()) {
            throw new IllegalArgumentException(queryKeys.size() + " query/key maps for " + frozen.layers().size()
                    + " layers");
        }
    }

    /**
     * The sites whose clean values a linearised model records: frozen values (norm scales, and the attention patterns
     * when {@code keepPatterns}; otherwise each layer's {@code hook_resid_pre}, to recompute them), the spec's read and
     * write sites, and the boundaries (embeddings, unembedding input, logits).
     */
    public static List<HookSite> recordedSites(List<HookSite> sites, LinearizationSpec spec, boolean keepPatterns) {
        List<HookSite> recorded = new ArrayList<>();
        for (HookSite site : sites) {
            SiteKind kind = site.kind();
            boolean frozenValue = kind == SiteKind.ATTN_PATTERN ? keepPatterns
                    : kind.name().endsWith("_SCALE") || kind == SiteKind.RESID_PRE && !keepPatterns;
            boolean readOrWrite = kind == spec.readSite() || kind == spec.writeSite();
            boolean boundary = kind == SiteKind.EMBED || kind == SiteKind.UNEMBED_IN || kind == SiteKind.LOGITS;
            if (frozenValue || readOrWrite || boundary) {
                recorded.add(site);
            }
        }
        return recorded;
    }

    @Override
    public TokenSequence tokens() {
        return tokens;
    }

    @Override
    public LinearizationSpec spec() {
        return spec;
    }

    @Override
    public Map<HookSite, NDArray> clean() {
        return clean;
    }

    @Override
    public VjpResult vjp(NDManager manager, VjpSeeds seeds) {
        Objects.requireNonNull(manager, "manager");
        return AdjointSweep.run(manager, frozen, spec, seeds);
    }

    @Override
    public HeadLoadings headLoadings(NDManager manager, VjpSeeds targets, SourceWrites sources, int[] edgeTargets,
                                     int[] edgeSources) {
        Objects.requireNonNull(manager, "manager");
        return HeadLoadingSweep.run(manager, frozen, spec, targets, sources, edgeTargets, edgeSources, sourceSweeps);
    }

    @Override
    public List<QkAttribution> qkAttribution(NDManager manager, SourceWrites sources, List<QkQuery> queries) {
        Objects.requireNonNull(manager, "manager");
        if (queryKeys.isEmpty()) {
            return LinearizedModel.super.qkAttribution(manager, sources, queries);
        }
        return QkSweep.run(manager, frozen, queryKeys, spec, sources, queries);
    }

    @Override
    public void close() {
        sourceSweeps.close();
        state.close();
    }
}
