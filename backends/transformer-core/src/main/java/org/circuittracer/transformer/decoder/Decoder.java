package org.circuittracer.transformer.decoder;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;

/**
 * A decoder-only transformer as data: embeddings, blocks, final norm, unembedding. Every architecture loads into this
 * one shape; {@link DecoderForward} runs it. The arrays belong to the model's manager and are never changed.
 *
 * @param config            the dimensions
 * @param embeddings        token (and position) embeddings
 * @param blocks            the {@code L} blocks
 * @param finalNorm         the final norm ({@code ln_final.hook_scale})
 * @param unembed           {@code [d, V]}
 * @param finalLogitSoftcap {@code c > 0} caps logits to {@code c·tanh(x / c)} (Gemma-2); 0 for none
 */
public record Decoder(ModelConfig config, Embeddings embeddings, List<Block> blocks, NormWeights finalNorm,
                      Linear unembed, float finalLogitSoftcap) {

    public Decoder {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(embeddings, "embeddings");
        Objects.requireNonNull(finalNorm, "finalNorm");
        Objects.requireNonNull(unembed, "unembed");
        blocks = List.copyOf(blocks);
        if (blocks.size() != config.layers()) {
            throw new IllegalArgumentException(blocks.size() + " blocks for " + config.layers() + " layers");
        }
    }

    /** Every hook site of this model in forward order ({@link SiteKind} is declared in forward order). */
    public List<HookSite> sites() {
        List<HookSite> sites = new ArrayList<>();
        sites.add(HookSite.global(SiteKind.EMBED));
        if (embeddings.positions().isPresent()) {
            sites.add(HookSite.global(SiteKind.POS_EMBED));
        }
        for (int layer = 0; layer < blocks.size(); layer++) {
            Block block = blocks.get(layer);
            for (SiteKind kind : SiteKind.values()) {
                boolean present = kind.perLayer()
                        && (kind != SiteKind.LN1_POST_SCALE || block.ln1Post().isPresent())
                        && (kind != SiteKind.LN2_POST_SCALE || block.ln2Post().isPresent());
                if (present) {
                    sites.add(HookSite.of(kind, layer));
                }
            }
        }
        for (SiteKind kind : SiteKind.values()) {
            if (!kind.perLayer() && kind != SiteKind.EMBED && kind != SiteKind.POS_EMBED) {
                sites.add(HookSite.global(kind));
            }
        }
        return List.copyOf(sites);
    }
}
