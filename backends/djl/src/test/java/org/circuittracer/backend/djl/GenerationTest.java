package org.circuittracer.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import java.util.function.IntPredicate;
import java.util.stream.IntStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.GenerationRequest;
import org.circuittracer.spi.model.GenerationResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.Positions;
import org.circuittracer.spi.model.Precision;
import org.circuittracer.spi.model.Sampling;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transformer.generation.Sampler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Generation with the key/value cache: every step equals an uncached forward pass over the prefix with the same hooks;
 * hooks reach exactly the positions they select; sampling options, stop tokens and limits behave as documented.
 */
class GenerationTest {

    private static final Map<String, TransformerModel> MODELS = new HashMap<>();
    private static final double TOLERANCE = 2e-4; // relative to the largest logit, as the conformance kit

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

    private GenerationResult generate(TransformerModel model, TokenSequence prompt, int tokens, Sampling sampling,
                                      Set<Integer> stops, List<Hook> hooks) {
        return model.generate(manager, new GenerationRequest(prompt, tokens, sampling, stops, hooks));
    }

    private GenerationResult greedy(TransformerModel model, TokenSequence prompt, int tokens, List<Hook> hooks) {
        return generate(model, prompt, tokens, Sampling.greedy(), Set.of(), hooks);
    }

    /** Every step's logits equal the last row of a forward pass over the prefix, and the token is their arg-max. */
    private void assertEqualsRecomputation(TransformerModel model, TokenSequence prompt, GenerationResult result,
                                           List<Hook> hooks) {
        int[] all = result.tokens().ids();
        assertThat(Arrays.copyOf(all, prompt.length())).containsExactly(prompt.ids());
        int steps = all.length - prompt.length();
        assertThat(result.stepLogits().getShape())
                .isEqualTo(new Shape(steps, model.config().vocabularySize()));
        for (int step = 0; step < steps; step++) {
            TokenSequence prefix = new TokenSequence(Arrays.copyOf(all, prompt.length() + step));
            NDArray logits = model.forward(manager, prefix, hooks).logits();
            float[] expected = logits.get(prefix.length() - 1).toFloatArray();
            assertClose(result.stepLogits().get(step).toFloatArray(), expected, "step " + step);
            assertThat(all[prefix.length()]).as("token at step %d", step).isEqualTo(Sampler.argMax(expected));
        }
    }

    private static void assertClose(float[] actual, float[] expected, String what) {
        assertThat(actual).hasSameSizeAs(expected);
        double scale = 1;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < actual.length; i++) {
            if (!(Math.abs(actual[i] - expected[i]) <= TOLERANCE * scale)) {
                throw new AssertionError(what + ", logit " + i + ": " + actual[i] + " vs " + expected[i]
                        + " (tolerance " + TOLERANCE * scale + ")");
            }
        }
    }

    private static TokenSequence randomPrompt(TransformerModel model, int length, long seed) {
        Random random = new Random(seed);
        return new TokenSequence(IntStream.range(0, length)
                .map(i -> random.nextInt(model.config().vocabularySize())).toArray());
    }

    // ---------------------------------------------------------------- the cache is exact

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama", "gemma2", "qwen3", "gemma3"})
    void greedyEqualsTheArgMaxOfAnUncachedForwardAtEveryStep(String architecture) {
        TransformerModel model = model(architecture);
        TokenSequence prompt = TinyModels.prompt(architecture, 0);
        GenerationResult result = greedy(model, prompt, 6, List.of());
        assertThat(result.tokens().length()).isEqualTo(prompt.length() + 6);
        assertEqualsRecomputation(model, prompt, result, List.of());
    }

    @Test
    void theCacheGrowsAsTheGenerationGoesOn() {
        TransformerModel qwen = model("qwen3");
        TokenSequence prompt = TokenSequence.of(3, 4);
        // room for 2 + 32 positions at first: the cache grows once (copying its rows) before the end
        GenerationResult result = greedy(qwen, prompt, 40, List.of());
        assertThat(result.tokens().length()).isEqualTo(42);
        assertEqualsRecomputation(qwen, prompt, result, List.of());
    }

    @Test
    void gemma2PastTwiceTheSlidingWindowEqualsRecomputation() {
        TransformerModel gemma = model("gemma2"); // sliding_window 8 on layers 0 and 2, soft-caps on
        TokenSequence prompt = randomPrompt(gemma, 12, 3);
        NDArray steer = manager.randomNormal(new Shape(gemma.config().modelWidth()));
        for (List<Hook> hooks : List.of(List.<Hook>of(),
                List.<Hook>of(new Hook.Add(HookSite.of(SiteKind.RESID_MID, 1), Positions.from(3), steer)))) {
            GenerationResult result = greedy(gemma, prompt, 9, hooks);
            assertThat(result.tokens().length()).isEqualTo(21); // the last step computes position 19 > 2 × 8
            assertEqualsRecomputation(gemma, prompt, result, hooks);
        }
    }

    @Test
    void gemma3AcrossItsSlidingWindowsAndItsGlobalLayerEqualsRecomputation() {
        // sliding_window 4 on layers 0, 1 and 3 (local rotary base), layer 2 global (scaled rotary): a 3-token
        // prompt grown to 14 crosses the window's edge on the third new token and keeps crossing it
        TransformerModel gemma = model("gemma3");
        TokenSequence prompt = randomPrompt(gemma, 3, 7);
        NDArray steer = manager.randomNormal(new Shape(gemma.config().modelWidth()));
        for (List<Hook> hooks : List.of(List.<Hook>of(),
                List.<Hook>of(new Hook.Add(HookSite.of(SiteKind.RESID_MID, 2), Positions.from(1), steer)))) {
            GenerationResult result = greedy(gemma, prompt, 11, hooks);
            assertThat(result.tokens().length()).isEqualTo(14);
            assertEqualsRecomputation(gemma, prompt, result, hooks);
        }
    }

    @Test
    void boundedHooksEarlyInTheModelEqualRecomputation() {
        TransformerModel llama = model("llama");
        TokenSequence prompt = TinyModels.prompt("llama", 0);
        List<Hook> hooks = List.of(new Hook.Add(HookSite.of(SiteKind.RESID_PRE, 0), Positions.range(0, 3),
                manager.randomNormal(new Shape(3, llama.config().modelWidth())).mul(3)));
        GenerationResult steered = greedy(llama, prompt, 4, hooks);
        assertEqualsRecomputation(llama, prompt, steered, hooks);
        float[] clean = greedy(llama, prompt, 1, List.of()).stepLogits().toFloatArray();
        float[] first = steered.stepLogits().get(0).toFloatArray();
        double moved = IntStream.range(0, clean.length).mapToDouble(i -> Math.abs(clean[i] - first[i])).max()
                .orElseThrow();
        assertThat(moved).as("the hook changes the prompt pass").isGreaterThan(1e-3);
    }

    @Test
    void float16GenerationFollowsItsOwnForwardPass() {
        try (TransformerModel half = TinyModels.open(TinyModels.directory("llama"), Precision.FLOAT16)) {
            TokenSequence prompt = TinyModels.prompt("llama", 0);
            GenerationResult result = greedy(half, prompt, 3, List.of());
            int[] all = result.tokens().ids();
            for (int step = 0; step < 3; step++) {
                TokenSequence prefix = new TokenSequence(Arrays.copyOf(all, prompt.length() + step));
                float[] expected = half.forward(manager, prefix, List.of()).logits().get(prefix.length() - 1)
                        .toFloatArray();
                float[] actual = result.stepLogits().get(step).toFloatArray();
                for (int i = 0; i < expected.length; i++) {
                    assertThat((double) Math.abs(actual[i] - expected[i])).isLessThan(2e-2);
                }
            }
        }
    }

    // ---------------------------------------------------------------- where hooks act

    /**
     * A constant added to the logits changes no greedy choice, so the generated tokens stay the same and each step's
     * row shows exactly whether the hook reached that pass: row {@code r} holds the logits of position
     * {@code T − 1 + r}.
     */
    @Test
    void hooksReachExactlyThePositionsTheySelect() {
        TransformerModel llama = model("llama");
        TokenSequence prompt = TinyModels.prompt("llama", 0);
        int length = prompt.length();
        assertThat(length).isGreaterThan(3);
        int steps = 6;
        GenerationResult clean = greedy(llama, prompt, steps, List.of());
        float[][] cleanRows = rows(clean);
        Map<Positions, boolean[]> expected = new LinkedHashMap<>();
        expected.put(Positions.range(0, 3), rowsAt(steps, r -> false));                   // inside the prompt
        expected.put(Positions.at(1), rowsAt(steps, r -> false));
        expected.put(Positions.all(), rowsAt(steps, r -> true));                          // open-ended
        expected.put(Positions.from(length), rowsAt(steps, r -> r >= 1));                 // generated only
        expected.put(Positions.range(0, length + 1), rowsAt(steps, r -> r <= 1));         // ends in the generation
        expected.put(Positions.at(-1), rowsAt(steps, r -> true));                         // the newest, every pass
        expected.put(new Positions.Slice(length, OptionalInt.empty(), 2), rowsAt(steps, r -> r % 2 == 1));
        for (Map.Entry<Positions, boolean[]> entry : expected.entrySet()) {
            Hook shift = new Hook.Add(HookSite.global(SiteKind.LOGITS), entry.getKey(), manager.create(new float[] {5f}));
            GenerationResult shifted = greedy(llama, prompt, steps, List.of(shift));
            assertThat(shifted.tokens()).as("positions %s", entry.getKey()).isEqualTo(clean.tokens());
            float[][] shiftedRows = rows(shifted);
            for (int r = 0; r < steps; r++) {
                float want = entry.getValue()[r] ? 5f : 0f;
                for (int v = 0; v < cleanRows[r].length; v++) {
                    if (!(Math.abs(shiftedRows[r][v] - cleanRows[r][v] - want) <= 1e-4)) {
                        throw new AssertionError("positions " + entry.getKey() + ", row " + r + " (position "
                                + (length - 1 + r) + "), logit " + v + ": moved by "
                                + (shiftedRows[r][v] - cleanRows[r][v]) + ", expected " + want);
                    }
                }
            }
        }
        // At positions are checked against the prompt pass, as in forward
        expectInvalid(() -> greedy(llama, prompt, 2, List.of(new Hook.Add(HookSite.global(SiteKind.LOGITS),
                Positions.at(length + 1), manager.create(new float[] {5f})))), "outside the sequence");
    }

    @Test
    void attentionPatternsAtAStepHaveOneQueryOverEveryKeySoFar() {
        TransformerModel gemma = model("gemma2");
        TokenSequence prompt = randomPrompt(gemma, 10, 5);
        List<long[]> shapes = new ArrayList<>();
        List<float[]> local = new ArrayList<>();
        List<Hook> hooks = List.of(
                new Hook.Transform(HookSite.of(SiteKind.ATTN_PATTERN, 1), p -> {
                    shapes.add(p.getShape().getShape());
                    return p;
                }),
                new Hook.Transform(HookSite.of(SiteKind.ATTN_PATTERN, 0), p -> { // a sliding-window layer
                    local.add(p.get(0).get(p.getShape().get(1) - 1).toFloatArray()); // head 0, newest query
                    return p;
                }));
        greedy(gemma, prompt, 4, hooks);
        assertThat(shapes).containsExactly(new long[] {4, 10, 10}, new long[] {4, 1, 11}, new long[] {4, 1, 12},
                new long[] {4, 1, 13});
        for (float[] row : local) {
            int query = row.length - 1;
            double sum = 0;
            for (int key = 0; key < row.length; key++) {
                sum += row[key];
                if (key <= query - 8) {
                    assertThat(row[key]).as("key %d is outside the window of query %d", key, query).isZero();
                } else {
                    assertThat(row[key]).isPositive();
                }
            }
            assertThat(sum).isCloseTo(1.0, offset(1e-5));
        }
    }

    // ---------------------------------------------------------------- sampling and stopping

    @Test
    void stopTokensEndTheGenerationAndAreIncluded() {
        TransformerModel llama = model("llama");
        TokenSequence prompt = TinyModels.prompt("llama", 1);
        int[] free = greedy(llama, prompt, 8, List.of()).tokens().ids();
        int stop = free[prompt.length() + 2];
        int end = prompt.length();
        while (free[end] != stop) {
            end++;
        }
        GenerationResult stopped = generate(llama, prompt, 8, Sampling.greedy(), Set.of(stop), List.of());
        assertThat(stopped.tokens().ids()).containsExactly(Arrays.copyOf(free, end + 1));
        assertThat(stopped.stepLogits().getShape().get(0)).isEqualTo(end + 1 - prompt.length());
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gemma2"})
    void topKOfOneAndATinyTopPAreGreedy(String architecture) {
        TransformerModel model = model(architecture);
        TokenSequence prompt = TinyModels.prompt(architecture, 2);
        TokenSequence greedy = greedy(model, prompt, 5, List.of()).tokens();
        for (Sampling sampling : List.of(new Sampling(1.0, 1, 1.0, 1), new Sampling(2.5, 1, 0.5, 2),
                new Sampling(1.0, 0, 1e-9, 3), new Sampling(0.8, 40, 1e-6, 4))) {
            assertThat(generate(model, prompt, 5, sampling, Set.of(), List.of()).tokens()).as("%s", sampling)
                    .isEqualTo(greedy);
        }
    }

    @Test
    void samplingDependsOnTheSeedOnly() {
        TransformerModel qwen = model("qwen3");
        TokenSequence prompt = TinyModels.prompt("qwen3", 0);
        Set<TokenSequence> outcomes = new HashSet<>();
        for (long seed = 0; seed < 4; seed++) {
            Sampling sampling = new Sampling(1.5, 0, 1.0, seed);
            TokenSequence once = generate(qwen, prompt, 6, sampling, Set.of(), List.of()).tokens();
            assertThat(generate(qwen, prompt, 6, sampling, Set.of(), List.of()).tokens()).isEqualTo(once);
            outcomes.add(once);
        }
        assertThat(outcomes).as("different seeds, different samples").hasSizeGreaterThan(1);
    }

    @Test
    void aTopTwoSamplerReachesBothTokensInProportion() {
        TransformerModel llama = model("llama");
        TokenSequence prompt = TinyModels.prompt("llama", 0);
        float[] logits = greedy(llama, prompt, 1, List.of()).stepLogits().get(0).toFloatArray();
        int[] top = IntStream.range(0, logits.length).boxed()
                .sorted((a, b) -> Float.compare(logits[b], logits[a])).mapToInt(Integer::intValue).limit(2).toArray();
        double temperature = Math.max(0.5, Math.abs(logits[top[0]] - logits[top[1]])); // both tokens plausible
        double first = 1 / (1 + Math.exp((logits[top[1]] - logits[top[0]]) / temperature));
        Sampler sampler = new Sampler(new Sampling(temperature, 2, 1.0, 42));
        int[] counts = new int[logits.length];
        for (int i = 0; i < 200; i++) {
            counts[sampler.next(logits)]++;
        }
        assertThat(counts[top[0]] + counts[top[1]]).isEqualTo(200);
        assertThat(counts[top[0]]).isPositive();
        assertThat(counts[top[1]]).isPositive();
        // binomial(200, p): 4.5 standard deviations is at most 0.16
        assertThat(counts[top[0]] / 200.0).isCloseTo(first, offset(0.16));
    }

    // ---------------------------------------------------------------- limits and errors

    @Test
    void generationStopsAtTheModelsLastPosition() {
        TransformerModel gpt2 = model("gpt2"); // 64 positions
        GenerationResult result = greedy(gpt2, randomPrompt(gpt2, 61, 1), 10, List.of());
        assertThat(result.tokens().length()).isEqualTo(64);
        assertThat(result.stepLogits().getShape().get(0)).isEqualTo(3);
    }

    @Test
    void badRequestsAreRejectedClearly() {
        TransformerModel gpt2 = model("gpt2");
        TokenSequence prompt = TinyModels.prompt("gpt2", 0);
        expectInvalid(() -> new GenerationRequest(prompt, 0, Sampling.greedy(), Set.of(), List.of()),
                "at least one token");
        expectInvalid(() -> greedy(gpt2, randomPrompt(gpt2, 64, 2), 1, List.of()), "64 tokens", "64 positions",
                "at most 63 tokens");
        expectInvalid(() -> greedy(gpt2, TokenSequence.of(1, 128), 1, List.of()), "Token id 128");
        expectInvalid(() -> generate(gpt2, prompt, 2, Sampling.greedy(), Set.of(128), List.of()), "Stop token 128");
        expectInvalid(() -> greedy(gpt2, prompt, 2, List.of(new Hook.Capture(HookSite.of(SiteKind.RESID_POST, 0)))),
                "Hook.Capture", "forward");
        expectInvalid(() -> greedy(gpt2, prompt, 2, List.of(new Hook.Add(HookSite.of(SiteKind.RESID_POST, 3),
                Positions.all(), manager.zeros(new Shape(48))))), "layers 0 to 2");
        // one value per prompt position fits the prompt pass but not a generated position
        NDArray perPosition = manager.zeros(new Shape(prompt.length(), 48));
        expectInvalid(() -> greedy(gpt2, prompt, 2, List.of(new Hook.Replace(HookSite.of(SiteKind.RESID_POST, 0),
                Positions.all(), perPosition))), "generation step for position " + prompt.length(), "[1, 48]");
        assertThat(greedy(gpt2, prompt, 2, List.of(new Hook.Replace(HookSite.of(SiteKind.RESID_POST, 0),
                Positions.range(0, prompt.length()), perPosition))).tokens().length())
                .isEqualTo(prompt.length() + 2);
    }

    @Test
    void onlyTheResultIsLeftInTheCallersManager() {
        TransformerModel gemma = model("gemma2");
        NDArray steer = manager.randomNormal(new Shape(gemma.config().modelWidth()));
        try (NDManager scope = manager.newSubManager()) {
            GenerationResult result = gemma.generate(scope, new GenerationRequest(TinyModels.prompt("gemma2", 0), 5,
                    new Sampling(1, 10, 0.9, 7), Set.of(),
                    List.of(new Hook.Add(HookSite.of(SiteKind.RESID_PRE, 1), Positions.from(2), steer))));
            assertThat(scope.getManagedArrays()).containsExactly(result.stepLogits());
        }
    }

    private static float[][] rows(GenerationResult result) {
        int n = (int) result.stepLogits().getShape().get(0);
        float[][] rows = new float[n][];
        for (int r = 0; r < n; r++) {
            rows[r] = result.stepLogits().get(r).toFloatArray();
        }
        return rows;
    }

    private static boolean[] rowsAt(int steps, IntPredicate touched) {
        boolean[] rows = new boolean[steps];
        for (int r = 0; r < steps; r++) {
            rows[r] = touched.test(r);
        }
        return rows;
    }

    private static void expectInvalid(ThrowingCallable call, String... fragments) {
        assertThatThrownBy(call).isInstanceOfSatisfying(CircuitTracerException.class,
                e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .message().contains(fragments);
    }
}
