package org.circuittracer.backend.onnx;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.circuittracer.backend.onnx.graph.ModelInputs;
import org.circuittracer.backend.onnx.graph.Sessions;
import org.circuittracer.backend.onnx.sitemap.ResolvedSites;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;

/** What an opened ONNX model can do: from the sites and weights its site map found, the graph's inputs, the device. */
final class OnnxCapabilities {

    private OnnxCapabilities() {
    }

    static Set<BackendCapability> of(ModelConfig config, ResolvedSites sites, ModelInputs inputs,
                                     Sessions.Device device) {
        return of(config, sites, inputs, device, false);
    }

    /**
     * @param knownAttention whether the model's architecture (its attention settings) is known to the transformer
     *                       core: with the query and key weights, QK attribution
     */
    static Set<BackendCapability> of(ModelConfig config, ResolvedSites sites, ModelInputs inputs,
                                     Sessions.Device device, boolean knownAttention) {
        List<HookSite> list = sites.sites();
        Set<BackendCapability> caps = EnumSet.of(BackendCapability.HOOKS);
        boolean patterns = everyLayer(config, list, SiteKind.ATTN_PATTERN);
        boolean scales = everyLayer(config, list, SiteKind.LN1_SCALE)
                && everyLayer(config, list, SiteKind.LN2_SCALE)
                && list.contains(HookSite.global(SiteKind.FINAL_SCALE));
        if (patterns) {
            caps.add(BackendCapability.FREEZE_ATTENTION);
        }
        if (scales) {
            caps.add(BackendCapability.FREEZE_NORMS);
        }
        if (patterns && scales && vjpWeights(config, sites) && list.contains(HookSite.global(SiteKind.EMBED))
                && list.contains(HookSite.global(SiteKind.UNEMBED_IN))) {
            caps.add(BackendCapability.VJP);
            caps.add(BackendCapability.HEAD_LOADINGS); // the same frozen model, split at the attention layers
            if (knownAttention && queryKeyWeights(config, sites) && list.stream().filter(s -> s.kind()
                    == SiteKind.RESID_PRE).count() == config.layers()) {
                caps.add(BackendCapability.QK_ATTRIBUTION);
            }
        }
        if (inputs.hasCache()) {
            caps.add(BackendCapability.KV_CACHE);
        }
        if (has(sites, "unembed.W_U")) {
            caps.add(BackendCapability.UNEMBEDDING);
        }
        if (device == Sessions.Device.CUDA) {
            caps.add(BackendCapability.CUDA);
        }
        return Set.copyOf(caps);
    }

    private static boolean everyLayer(ModelConfig config, List<HookSite> sites, SiteKind kind) {
        for (int layer = 0; layer < config.layers(); layer++) {
            if (!sites.contains(HookSite.of(kind, layer))) {
                return false;
            }
        }
        return true;
    }

    private static boolean vjpWeights(ModelConfig config, ResolvedSites sites) {
        List<HookSite> list = sites.sites();
        if (!has(sites, "ln_final.w")) {
            return false;
        }
        for (int layer = 0; layer < config.layers(); layer++) {
            String b = "blocks." + layer + ".";
            boolean post1 = list.contains(HookSite.of(SiteKind.LN1_POST_SCALE, layer));
            boolean post2 = list.contains(HookSite.of(SiteKind.LN2_POST_SCALE, layer));
            if (!has(sites, b + "attn.W_V") || !has(sites, b + "attn.W_O") || !has(sites, b + "ln1.w")
                    || !has(sites, b + "ln2.w") || (post1 && !has(sites, b + "ln1_post.w"))
                    || (post2 && !has(sites, b + "ln2_post.w"))) {
                return false;
            }
        }
        return true;
    }

    /** Every layer's query and key projections (biases and per-head norms are optional). */
    private static boolean queryKeyWeights(ModelConfig config, ResolvedSites sites) {
        for (int layer = 0; layer < config.layers(); layer++) {
            String b = "blocks." + layer + ".";
            if (!has(sites, b + "attn.W_Q") || !has(sites, b + "attn.W_K")) {
                return false;
            }
        }
        return true;
    }

    private static boolean has(ResolvedSites sites, String weight) {
        return sites.weight(weight).isPresent();
    }
}
