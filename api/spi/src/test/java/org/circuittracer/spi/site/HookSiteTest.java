package org.circuittracer.spi.site;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.OptionalInt;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class HookSiteTest {

    @ParameterizedTest
    @EnumSource(SiteKind.class)
    void everyKindPrintsAndParsesBack(SiteKind kind) {
        HookSite site = kind.perLayer() ? HookSite.of(kind, 11) : HookSite.global(kind);
        assertThat(HookSite.parse(site.toString())).isEqualTo(site);
    }

    @Test
    void usesTransformerLensSpelling() {
        assertThat(HookSite.of(SiteKind.RESID_MID, 3)).hasToString("blocks.3.hook_resid_mid");
        assertThat(HookSite.of(SiteKind.LN2_NORMALIZED, 0)).hasToString("blocks.0.ln2.hook_normalized");
        assertThat(HookSite.of(SiteKind.MLP_OUT, 25)).hasToString("blocks.25.hook_mlp_out");
        assertThat(HookSite.of(SiteKind.ATTN_PATTERN, 2)).hasToString("blocks.2.attn.hook_pattern");
        assertThat(HookSite.global(SiteKind.FINAL_NORMALIZED)).hasToString("ln_final.hook_normalized");
        assertThat(HookSite.parse("blocks.7.mlp.hook_in")).isEqualTo(HookSite.of(SiteKind.MLP_IN, 7));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "blocks", "blocks.", "blocks.x.hook_resid_mid", "blocks.-1.hook_resid_mid",
            "blocks.3.hook_nothing", "blocks.3.hook_embed", "hook_resid_mid", "blocks.99999999.hook_resid_mid",
            "blocks.3", "blocks..hook_resid_mid", "ln_final.hook_scale.extra"})
    void rejectsNonSitesListingTheValidOnes(String name) {
        assertThatThrownBy(() -> HookSite.parse(name)).isInstanceOf(CircuitTracerException.class)
                .hasMessageContaining("is not a hook site").hasMessageContaining("hook_resid_mid")
                .hasMessageContaining("ln_final.hook_scale");
    }

    @Test
    void layerRulesAreChecked() {
        assertThatThrownBy(() -> HookSite.of(SiteKind.MLP_OUT, -1)).hasMessageContaining("needs a layer index");
        assertThatThrownBy(() -> HookSite.of(SiteKind.EMBED, 0)).hasMessageContaining("is global");
        assertThatThrownBy(() -> new HookSite(SiteKind.MLP_OUT, OptionalInt.empty()))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining("needs a layer index >= 0, got none");
        assertThatThrownBy(() -> new HookSite(SiteKind.UNEMBED_IN, OptionalInt.of(-1)))
                .isInstanceOf(CircuitTracerException.class).hasMessageContaining("is global");
    }

    @Test
    void globalSitesHaveNoLayerAndSitesAreValues() {
        assertThat(HookSite.global(SiteKind.UNEMBED_IN).layer()).isEmpty();
        assertThat(HookSite.of(SiteKind.MLP_OUT, 3).layer()).hasValue(3);
        assertThat(HookSite.parse("blocks.3.hook_mlp_out")).isEqualTo(new HookSite(SiteKind.MLP_OUT, OptionalInt.of(3)))
                .hasSameHashCodeAs(HookSite.of(SiteKind.MLP_OUT, 3));
        Map<HookSite, String> byName = Map.of(HookSite.of(SiteKind.MLP_OUT, 3), "mlp", HookSite.global(SiteKind.EMBED),
                "embed");
        assertThat(byName.get(HookSite.parse("blocks.3.hook_mlp_out"))).isEqualTo("mlp");
        assertThat(byName.get(HookSite.parse("hook_embed"))).isEqualTo("embed");
        assertThat(HookSite.global(SiteKind.EMBED)).isNotEqualTo(HookSite.of(SiteKind.MLP_OUT, 0));
    }

    @Test
    void ordersByLayerThenForwardOrder() {
        assertThat(HookSite.of(SiteKind.RESID_PRE, 1)).isGreaterThan(HookSite.of(SiteKind.RESID_POST, 0));
        assertThat(HookSite.of(SiteKind.RESID_MID, 1)).isGreaterThan(HookSite.of(SiteKind.ATTN_PATTERN, 1));
        assertThat(HookSite.global(SiteKind.EMBED)).isLessThan(HookSite.of(SiteKind.RESID_PRE, 0));
        assertThat(HookSite.global(SiteKind.UNEMBED_IN)).isLessThan(HookSite.of(SiteKind.RESID_PRE, 0))
                .isGreaterThan(HookSite.global(SiteKind.EMBED));
    }
}
