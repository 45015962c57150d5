package org.circuittracer.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.circuittracer.spi.model.ForwardResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.Positions;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What hooks do: capture, replace, add and transform act where and when the SPI says, and their effects propagate. */
class HookSemanticsTest {

    private static final Map<String, TransformerModel> MODELS = new HashMap<>();

    private NDManager manager;

    @BeforeEach
    void newManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }

    @AfterAll
    static void closeModels() {
        MODELS.values().forEach(TransformerModel::close);
    }

    private static TransformerModel model(String architecture) {
        return MODELS.computeIfAbsent(architecture, TinyModels::open);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama", "gemma2", "qwen3", "gemma3"})
    void identityTransformsAtEverySiteChangeNothing(String architecture) {
        TransformerModel model = model(architecture);
        TokenSequence prompt = TinyModels.prompt(architecture, 1);
        NDArray clean = model.forward(manager, prompt, List.of()).logits();
        List<Hook> identities = model.sites().stream().map(s -> (Hook) new Hook.Transform(s, x -> x)).toList();
        assertThat(model.forward(manager, prompt, identities).logits().toFloatArray())
                .containsExactly(clean.toFloatArray());
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama", "gemma2", "qwen3", "gemma3"})
    void replacingEverySiteWithItsOwnValueChangesNothing(String architecture) {
        TransformerModel model = model(architecture);
        TokenSequence prompt = TinyModels.prompt(architecture, 1);
        ForwardResult clean = model.forward(manager, prompt, captureAll(model));
        List<Hook> replaces = new ArrayList<>();
        for (HookSite site : model.sites()) {
            replaces.add(new Hook.Replace(site, Positions.all(), clean.capturedAt(site)));
            replaces.add(new Hook.Replace(site, Positions.at(3, 1), rows(site, clean.capturedAt(site), 3, 1)));
        }
        NDArray replaced = model.forward(manager, prompt, replaces).logits();
        TinyModels.assertClose(replaced, clean.logits().toFloatArray(), 1e-6, 0, architecture + " logits");
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama", "gemma2", "qwen3", "gemma3"})
    void anAdditionToTheResidualChangesLaterPositionsOnly(String architecture) {
        TransformerModel model = model(architecture);
        TokenSequence prompt = TinyModels.prompt(architecture, 1);
        int d = model.config().modelWidth();
        NDArray clean = model.forward(manager, prompt, List.of()).logits();
        NDArray delta = manager.randomNormal(new Shape(d)); // not constant: LayerNorm would centre that away
        NDArray added = model.forward(manager, prompt,
                List.of(new Hook.Add(HookSite.of(SiteKind.RESID_PRE, 1), Positions.at(4), delta))).logits();

        NDArray change = added.sub(clean).abs().max(new int[] {1}); // per position
        float[] perPosition = change.toFloatArray();
        for (int p = 0; p < perPosition.length; p++) {
            if (p < 4) {
                assertThat(perPosition[p]).as("causal: position %d is before the change", p).isEqualTo(0f);
            } else {
                assertThat(perPosition[p]).as("position %d sees the change", p).isGreaterThan(1e-4f);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "gemma2"})
    void anAdditionToTheMlpOutputReachesTheResidualExactly(String architecture) {
        TransformerModel model = model(architecture);
        TokenSequence prompt = TinyModels.prompt(architecture, 0);
        HookSite mlpOut = HookSite.of(SiteKind.MLP_OUT, 0);
        HookSite residPost = HookSite.of(SiteKind.RESID_POST, 0);
        NDArray delta = manager.randomNormal(new Shape(1, model.config().modelWidth()));
        ForwardResult clean = model.forward(manager, prompt, List.of(new Hook.Capture(residPost)));
        ForwardResult added = model.forward(manager, prompt,
                List.of(new Hook.Add(mlpOut, Positions.at(2), delta), new Hook.Capture(residPost)));

        NDArray difference = added.capturedAt(residPost).sub(clean.capturedAt(residPost));
        NDArray expected = manager.zeros(difference.getShape());
        expected.set(new NDIndex("2:3"), delta);
        TinyModels.assertClose(difference, expected.toFloatArray(), 1e-5, 0, "resid_post change");
        assertThat(added.logits().sub(clean.logits()).abs().max().getFloat()).isGreaterThan(1e-4f);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama", "gemma2", "qwen3", "gemma3"})
    void frozenPatternsAndScalesReproduceTheirPromptAndChangeAnother(String architecture) {
        TransformerModel model = model(architecture);
        TokenSequence prompt = TinyModels.prompt(architecture, 2);
        int[] ids = prompt.ids();
        ids[5] = ids[6];
        ids[9] = ids[3];
        TokenSequence other = new TokenSequence(ids);
        List<HookSite> frozen = model.sites().stream().filter(s -> s.kind() == SiteKind.ATTN_PATTERN
                || s.kind().hookName().endsWith("hook_scale")).toList();
        assertThat(frozen).hasSize(model.config().layers() * (architecture.startsWith("gemma") ? 5 : 3) + 1);

        ForwardResult clean = model.forward(manager, prompt,
                frozen.stream().map(s -> (Hook) new Hook.Capture(s)).toList());
        List<Hook> freeze = frozen.stream()
                .map(s -> (Hook) new Hook.Replace(s, Positions.all(), clean.capturedAt(s))).toList();

        NDArray samePrompt = model.forward(manager, prompt, freeze).logits();
        TinyModels.assertClose(samePrompt, clean.logits().toFloatArray(), 1e-6, 0, "frozen, same prompt");

        NDArray otherFree = model.forward(manager, other, List.of()).logits();
        NDArray otherFrozen = model.forward(manager, other, freeze).logits();
        assertThat(otherFrozen.sub(otherFree).abs().max().getFloat())
                .as("the frozen patterns and scales are used").isGreaterThan(1e-3f);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama"})
    void aReplacedScaleDividesTheNormalisedValue(String architecture) {
        TransformerModel model = model(architecture);
        TokenSequence prompt = TinyModels.prompt(architecture, 0);
        HookSite scale = HookSite.of(SiteKind.LN2_SCALE, 1);
        HookSite normalized = HookSite.of(SiteKind.LN2_NORMALIZED, 1);
        ForwardResult clean = model.forward(manager, prompt, List.of(new Hook.Capture(normalized)));
        ForwardResult doubled = model.forward(manager, prompt,
                List.of(new Hook.Transform(scale, s -> s.mul(2f)), new Hook.Capture(normalized)));
        TinyModels.assertClose(doubled.capturedAt(normalized), clean.capturedAt(normalized).div(2f).toFloatArray(),
                1e-6, 1e-6, "normalised with a doubled scale");
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gemma2"})
    void aReplacedPatternRowIsUsedAndCaptured(String architecture) {
        TransformerModel model = model(architecture);
        TokenSequence prompt = TinyModels.prompt(architecture, 0);
        int t = prompt.length();
        int h = model.config().heads();
        HookSite pattern = HookSite.of(SiteKind.ATTN_PATTERN, 0);
        // query row 3 attends to key 0 only, in every head
        NDArray row = manager.zeros(new Shape(h, 1, t));
        row.set(new NDIndex(":, :, 0"), 1f);
        ForwardResult clean = model.forward(manager, prompt, List.of(new Hook.Capture(pattern)));
        ForwardResult replaced = model.forward(manager, prompt,
                List.of(new Hook.Replace(pattern, Positions.at(3), row), new Hook.Capture(pattern)));

        NDArray expected = clean.capturedAt(pattern).duplicate();
        expected.set(new NDIndex(":, 3:4, :"), row);
        TinyModels.assertClose(replaced.capturedAt(pattern), expected.toFloatArray(), 0, 0, "pattern");
        NDArray change = replaced.logits().sub(clean.logits()).abs().max(new int[] {1});
        assertThat(change.getFloat(2)).isEqualTo(0f);
        assertThat(change.getFloat(3)).isGreaterThan(1e-4f);
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3"})
    void capturesSeeTheHooksListedBeforeThem(String architecture) {
        TransformerModel model = model(architecture);
        TokenSequence prompt = TinyModels.prompt(architecture, 0);
        HookSite site = HookSite.of(SiteKind.RESID_MID, 2);
        NDArray zeros = manager.zeros(new Shape(model.config().modelWidth()));
        ForwardResult result = model.forward(manager, prompt,
                List.of(new Hook.Replace(site, Positions.from(2), zeros), new Hook.Capture(site)));
        NDArray captured = result.capturedAt(site);
        assertThat(captured.get("2:").abs().max().getFloat()).isEqualTo(0f);
        assertThat(captured.get(":2").abs().max().getFloat()).isGreaterThan(0f);
        assertThat(captured.getDataType()).isEqualTo(DataType.FLOAT32);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama"})
    void aForwardPassLeavesOnlyItsResultsBehind(String architecture) {
        TransformerModel model = model(architecture);
        NDManager weights = ((DjlTransformerModel) model).decoder().embeddings().tokens().getManager();
        int before = weights.getManagedArrays().size();
        List<Hook> hooks = new ArrayList<>(captureAll(model));
        hooks.add(new Hook.Add(HookSite.of(SiteKind.RESID_PRE, 0), Positions.at(1), manager.ones(new Shape(64))));
        int callerArrays = manager.getManagedArrays().size();
        ForwardResult result = model.forward(manager, TinyModels.prompt(architecture, 2), hooks);

        assertThat(manager.getManagedArrays()).hasSize(callerArrays + 1 + result.captured().size());
        assertThat(weights.getManagedArrays()).hasSize(before);
    }

    private static List<Hook> captureAll(TransformerModel model) {
        return model.sites().stream().map(s -> (Hook) new Hook.Capture(s)).toList();
    }

    /** Rows {@code positions} of a site's value along its position axis. */
    private static NDArray rows(HookSite site, NDArray value, int... positions) {
        boolean pattern = site.kind() == SiteKind.ATTN_PATTERN;
        NDArray joined = null;
        for (int p : positions) {
            NDArray row = value.get((pattern ? ":, " : "") + p + ":" + (p + 1));
            joined = joined == null ? row : joined.concat(row, pattern ? 1 : 0);
        }
        return joined;
    }
}
