package org.circuittracer.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.offset;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionaryCapability;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.LinearMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Dictionary-level rules, checked on small dictionaries of a format, every layer, on seeded random inputs: sparse
 * encoding equals dense encoding exactly; zeroed positions have no activations; activations follow the declared
 * function; encoder rows and biases give the pre-activations; {@code decode} equals the dense reconstruction
 * {@code Σ a·W_dec + b_dec + skip(x)}; instances opened lazily and eagerly agree and gathered rows are rows of the full
 * matrices; capabilities are declared honestly (both ways); skip maps are linear with their adjoint; a WRITABLE
 * dictionary reads back identically after {@code save}; bad requests are INVALID_ARGUMENT errors.
 *
 * <p>The kit reads every decoder row of every layer, so keep the dictionaries small. It needs a DJL engine on the
 * test class path (e.g. {@code ai.djl.pytorch:pytorch-engine} with its natives, test scope).
 *
 * <pre>{@code
 * class MyDictionaryConformanceTest extends AbstractDictionaryConformanceTest {
 *     protected DictionaryFormatProvider provider() { return new MyFormatProvider(); }
 *     protected List<Path> directories() { return List.of(SharedFixtures.resolve("tiny-transcoders/llama-plt-relu")); }
 * }
 * }</pre>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class AbstractDictionaryConformanceTest {

    /** The format under test. */
    protected abstract DictionaryFormatProvider provider();

    /** Small dictionary directories the format reads. */
    protected abstract List<Path> directories();

    /**
     * A read-site value for {@code layer}, {@code [positions, d]}: by default independent standard normal entries.
     * Override when that makes (almost) no feature fire, e.g. with rows of real activations.
     */
    protected NDArray sampleInput(NDManager manager, SparseDictionary dictionary, int layer, int positions,
                                  Random random) {
        float[] values = new float[positions * dictionary.width()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return manager.create(values, new Shape(positions, dictionary.width()));
    }

    /** The positions whose activations must be zero (the BOS position by default). */
    protected Set<Integer> zeroedPositions() {
        return Set.of(0);
    }

    /** Positions per sampled input. */
    protected int positions() {
        return 6;
    }

    /** Relative tolerance for values computed by two routes in float32 (scaled by the largest magnitude). */
    protected double tolerance() {
        return 1e-4;
    }

    private NDManager manager;
    private final Map<Path, Instances> opened = new HashMap<>();

    /** The same directory opened with the default source, with everything eager, and with everything lazy. */
    private record Instances(SparseDictionary standard, SparseDictionary eager, SparseDictionary lazy) {
        Stream<SparseDictionary> all() {
            return Stream.of(standard, eager, lazy);
        }
    }

    @BeforeAll
    void createManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    void closeDictionaries() {
        opened.values().stream().flatMap(Instances::all).forEach(SparseDictionary::close);
        if (manager != null) {
            manager.close();
        }
    }

    Stream<Arguments> dictionaries() {
        return directories().stream().map(dir -> Arguments.of(dir.getFileName().toString(), dir));
    }

    private Instances open(Path dir) {
        return opened.computeIfAbsent(dir, d -> new Instances(provider().create(DictionarySource.of(d)),
                provider().create(new DictionarySource(d, false, false, Map.of())),
                provider().create(new DictionarySource(d, true, true, Map.of()))));
    }

    // ---------------------------------------------------------------- description

    @ParameterizedTest(name = "{0}")
    @MethodSource("dictionaries")
    void isRecognizedAndDescribesItsLayers(String name, Path dir) {
        assertThat(provider().recognize(dir).matches()).as("%s recognizes %s", provider().name(), dir).isTrue();
        SparseDictionary d = open(dir).standard();
        assertThat(d.formatName()).isEqualTo(provider().name());
        assertThat(d.scan()).isNotBlank();
        assertThat(d.layers()).isPositive();
        assertThat(d.width()).isPositive();
        assertThat(d.readSite().perLayer()).as("read site %s is per layer", d.readSite()).isTrue();
        assertThat(d.writeSite().perLayer()).as("write site %s is per layer", d.writeSite()).isTrue();
        assertThat(d.readSites()).hasSize(d.layers());
        assertThat(d.writeSites()).hasSize(d.layers());
        for (int layer = 0; layer < d.layers(); layer++) {
            assertThat(d.features(layer)).as("features of layer %d", layer).isPositive();
            assertThat(d.activation(layer)).as("activation of layer %d", layer).isNotNull();
            int[] outputs = d.outputLayers(layer);
            assertThat(outputs).as("output layers of layer %d", layer).isNotEmpty().isSorted().doesNotHaveDuplicates();
            assertThat(outputs[0]).as("layer %d writes no earlier layer", layer).isGreaterThanOrEqualTo(layer);
            assertThat(outputs[outputs.length - 1]).as("layer %d writes existing layers", layer).isLessThan(d.layers());
        }
    }

    // ---------------------------------------------------------------- encoding

    @ParameterizedTest(name = "{0}")
    @MethodSource("dictionaries")
    void sparseEncodingEqualsDenseEncoding(String name, Path dir) {
        SparseDictionary d = open(dir).standard();
        int active = 0;
        try (NDManager scope = manager.newSubManager()) {
            for (int layer = 0; layer < d.layers(); layer++) {
                NDArray x = input(scope, d, layer, 1);
                float[] dense = d.encode(scope, layer, x, zeroedPositions()).toFloatArray();
                SparseActivations sparse = d.encodeSparse(scope, layer, x, zeroedPositions());
                assertThat(sparse.layer()).isEqualTo(layer);
                assertThat(sparse.length()).isEqualTo(positions());
                assertThat(sparse).as("layer %d: the non-zero entries of encode()", layer)
                        .isEqualTo(nonZeros(layer, positions(), d.features(layer), dense));
                active += sparse.size();
            }
        }
        assertThat(active).as("features active on the sampled inputs of %s; override sampleInput so that some fire",
                name).isPositive();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dictionaries")
    void zeroedPositionsHaveNoActivationsAndOtherPositionsAreUnaffected(String name, Path dir) {
        SparseDictionary d = open(dir).standard();
        try (NDManager scope = manager.newSubManager()) {
            for (int layer = 0; layer < d.layers(); layer++) {
                NDArray x = input(scope, d, layer, 2);
                int features = d.features(layer);
                float[] zeroed = d.encode(scope, layer, x, zeroedPositions()).toFloatArray();
                float[] plain = d.encode(scope, layer, x, Set.of()).toFloatArray();
                for (int p = 0; p < positions(); p++) {
                    float[] row = Arrays.copyOfRange(zeroed, p * features, (p + 1) * features);
                    if (zeroedPositions().contains(p)) {
                        assertThat(row).as("layer %d, zeroed position %d", layer, p).containsOnly(0f);
                    } else {
                        assertThat(row).as("layer %d, position %d", layer, p)
                                .containsExactly(Arrays.copyOfRange(plain, p * features, (p + 1) * features));
                    }
                }
                SparseActivations sparse = d.encodeSparse(scope, layer, x, zeroedPositions());
                assertThat(Arrays.stream(sparse.positions()).boxed()).as("positions of sparse activations, layer %d",
                        layer).doesNotContainAnyElementsOf(zeroedPositions());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dictionaries")
    void activationsFollowTheDeclaredFunctionOfThePreActivations(String name, Path dir) {
        SparseDictionary d = open(dir).standard();
        try (NDManager scope = manager.newSubManager()) {
            for (int layer = 0; layer < d.layers(); layer++) {
                NDArray x = input(scope, d, layer, 3);
                float[] h = d.preActivations(scope, layer, x).toFloatArray();
                float[] a = d.encode(scope, layer, x, Set.of()).toFloatArray();
                assertThat(a).hasSameSizeAs(h);
                double tol = tolerance() * Math.max(1, maxAbs(h));
                int features = d.features(layer);
                ActivationFunction function = d.activation(layer);
                for (int p = 0; p < positions(); p++) {
                    checkActivation(function, Arrays.copyOfRange(h, p * features, (p + 1) * features),
                            Arrays.copyOfRange(a, p * features, (p + 1) * features), tol, layer, p);
                }
            }
        }
    }

    private static void checkActivation(ActivationFunction function, float[] h, float[] a, double tol, int layer,
                                        int position) {
        String where = "layer " + layer + ", position " + position;
        for (int f = 0; f < h.length; f++) {
            if (function instanceof ActivationFunction.Relu) {
                assertThat((double) a[f]).as("%s, feature %d: ReLU(%s)", where, f, h[f])
                        .isCloseTo(Math.max(h[f], 0), offset(tol));
            } else if (!(function instanceof ActivationFunction.Other) && a[f] != 0) {
                assertThat((double) a[f]).as("%s, feature %d: an active %s passes its pre-activation", where, f, function)
                        .isCloseTo(h[f], offset(tol));
            }
        }
        if (function instanceof ActivationFunction.TopK topK) {
            long kept = IntStream.range(0, a.length).filter(f -> a[f] != 0).count();
            assertThat(kept).as("%s: TopK(%d) keeps at most k", where, topK.k()).isLessThanOrEqualTo(topK.k());
            double smallestKept = IntStream.range(0, a.length).filter(f -> a[f] != 0).mapToDouble(f -> h[f]).min()
                    .orElse(Double.POSITIVE_INFINITY);
            double largestDropped = IntStream.range(0, a.length).filter(f -> a[f] == 0 && h[f] != 0)
                    .mapToDouble(f -> h[f]).max().orElse(Double.NEGATIVE_INFINITY);
            if (kept == topK.k()) {
                assertThat(smallestKept).as("%s: TopK keeps the largest pre-activations", where)
                        .isGreaterThanOrEqualTo(largestDropped - tol);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dictionaries")
    void encoderRowsAndBiasesGiveThePreActivations(String name, Path dir) {
        SparseDictionary d = open(dir).standard();
        try (NDManager scope = manager.newSubManager()) {
            for (int layer = 0; layer < d.layers(); layer++) {
                NDArray x = input(scope, d, layer, 4);
                int[] all = IntStream.range(0, d.features(layer)).toArray();
                NDArray rows = d.encoderRows(scope, layer, all);
                assertThat(rows.getShape()).isEqualTo(new Shape(all.length, d.width()));
                NDArray expected = x.matMul(rows.transpose()).add(d.encoderBias(scope, layer, all));
                assertClose(d.preActivations(scope, layer, x), expected, "pre-activations of layer " + layer);
            }
        }
    }

    // ---------------------------------------------------------------- decoding

    @ParameterizedTest(name = "{0}")
    @MethodSource("dictionaries")
    void decodeEqualsTheDenseReconstruction(String name, Path dir) {
        SparseDictionary d = open(dir).standard();
        try (NDManager scope = manager.newSubManager()) {
            NDArray[] inputs = IntStream.range(0, d.layers()).mapToObj(l -> input(scope, d, l, 5)).toArray(NDArray[]::new);
            for (int out = 0; out < d.layers(); out++) {
                List<SparseActivations> codes = new ArrayList<>();
                NDArray expected = d.decoderBias(scope, out).broadcast(new Shape(positions(), d.width()));
                for (int source : writersOf(d, out)) {
                    int[] all = IntStream.range(0, d.features(source)).toArray();
                    NDArray activations = d.encode(scope, source, inputs[source], zeroedPositions());
                    expected = expected.add(activations.matMul(d.decoderRows(scope, source, all, out)));
                    // from the dense code, so that this rule tests decode() alone
                    codes.add(nonZeros(source, positions(), all.length, activations.toFloatArray()));
                }
                Optional<LinearMap> skip = d.skip(out);
                if (skip.isPresent()) {
                    expected = expected.add(skip.get().apply(inputs[out]));
                }
                NDArray actual = d.decode(scope, out, codes, inputs[out]);
                assertThat(actual.getShape()).isEqualTo(new Shape(positions(), d.width()));
                assertClose(actual, expected, "reconstruction at output layer " + out);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dictionaries")
    void gatheredRowsAreRowsOfTheFullMatricesAndOutputLayersAreRespected(String name, Path dir) {
        SparseDictionary d = open(dir).standard();
        Random random = new Random(name.hashCode());
        try (NDManager scope = manager.newSubManager()) {
            for (int source = 0; source < d.layers(); source++) {
                int features = d.features(source);
                int[] all = IntStream.range(0, features).toArray();
                int[] some = random.ints(7, 0, features).toArray(); // unsorted, possibly repeated
                some[some.length - 1] = some[0];
                checkRows(d.encoderRows(scope, source, all), d.encoderRows(scope, source, some), some,
                        "encoder rows of layer " + source);
                assertThat(d.encoderBias(scope, source, some).toFloatArray()).as("encoder biases of layer %d", source)
                        .containsExactly(pick(d.encoderBias(scope, source, all).toFloatArray(), some, 1));
                int[] outputs = d.outputLayers(source);
                for (int out = 0; out < d.layers(); out++) {
                    int target = out;
                    if (Arrays.binarySearch(outputs, out) >= 0) {
                        checkRows(d.decoderRows(scope, source, all, out), d.decoderRows(scope, source, some, out), some,
                                "decoder rows of layer " + source + " into layer " + out);
                    } else {
                        int from = source;
                        expectInvalid(() -> d.decoderRows(scope, from, some, target),
                                "decoder rows of layer " + source + " into layer " + out + ", which it does not write");
                    }
                }
            }
        }
    }

    private void checkRows(NDArray full, NDArray gathered, int[] ids, String what) {
        int width = Math.toIntExact(full.getShape().get(1));
        assertThat(gathered.getShape()).as(what).isEqualTo(new Shape(ids.length, width));
        assertThat(gathered.toFloatArray()).as("%s %s", what, Arrays.toString(ids))
                .containsExactly(pick(full.toFloatArray(), ids, width));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dictionaries")
    void lazyAndEagerInstancesAgree(String name, Path dir) {
        Instances instances = open(dir);
        SparseDictionary lazy = instances.lazy();
        SparseDictionary eager = instances.eager();
        assertThat(eager.capabilities()).as("an eagerly opened dictionary loads its weights")
                .doesNotContain(DictionaryCapability.LAZY_DECODER, DictionaryCapability.LAZY_ENCODER);
        try (NDManager scope = manager.newSubManager()) {
            for (int layer = 0; layer < lazy.layers(); layer++) {
                NDArray x = input(scope, lazy, layer, 6);
                int[] all = IntStream.range(0, lazy.features(layer)).toArray();
                String where = "layer " + layer + ", lazy vs eager: ";
                assertThat(lazy.encodeSparse(scope, layer, x, zeroedPositions())).as(where + "sparse activations")
                        .isEqualTo(eager.encodeSparse(scope, layer, x, zeroedPositions()));
                assertClose(lazy.preActivations(scope, layer, x), eager.preActivations(scope, layer, x),
                        where + "pre-activations");
                assertThat(lazy.encoderRows(scope, layer, all).toFloatArray()).as(where + "encoder rows")
                        .containsExactly(eager.encoderRows(scope, layer, all).toFloatArray());
                for (int out : lazy.outputLayers(layer)) {
                    assertThat(lazy.decoderRows(scope, layer, all, out).toFloatArray())
                            .as(where + "decoder rows into layer %d", out)
                            .containsExactly(eager.decoderRows(scope, layer, all, out).toFloatArray());
                }
                assertThat(lazy.decoderBias(scope, layer).toFloatArray()).as(where + "decoder bias")
                        .containsExactly(eager.decoderBias(scope, layer).toFloatArray());
            }
            NDArray[] inputs = IntStream.range(0, lazy.layers()).mapToObj(l -> input(scope, lazy, l, 7))
                    .toArray(NDArray[]::new);
            for (int out = 0; out < lazy.layers(); out++) {
                List<SparseActivations> codes = new ArrayList<>();
                for (int source : writersOf(lazy, out)) {
                    codes.add(eager.encodeSparse(scope, source, inputs[source], zeroedPositions()));
                }
                assertClose(lazy.decode(scope, out, codes, inputs[out]), eager.decode(scope, out, codes, inputs[out]),
                        "decoding output layer " + out + ", lazy vs eager");
            }
        }
    }

    // ---------------------------------------------------------------- capabilities

    @ParameterizedTest(name = "{0}")
    @MethodSource("dictionaries")
    void declaredCapabilitiesHoldBothWays(String name, Path dir, @TempDir Path scratch) {
        SparseDictionary d = open(dir).standard();
        Set<DictionaryCapability> declared = d.capabilities();
        boolean anySkip = IntStream.range(0, d.layers()).anyMatch(l -> d.skip(l).isPresent());
        assertThat(declared.contains(DictionaryCapability.SKIP_CONNECTION)).as("SKIP_CONNECTION declared iff some "
                + "output layer has a skip map").isEqualTo(anySkip);
        boolean crossLayer = IntStream.range(0, d.layers()).anyMatch(l -> d.outputLayers(l).length > 1);
        assertThat(declared.contains(DictionaryCapability.CROSS_LAYER)).as("CROSS_LAYER declared iff some layer writes "
                + "to several layers").isEqualTo(crossLayer);
        if (!declared.contains(DictionaryCapability.WRITABLE)) {
            assertThatThrownBy(() -> d.save(scratch.resolve("copy"))).as("save() without WRITABLE")
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MISSING_CAPABILITY));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dictionaries")
    void skipMapsAreLinearWithTheirAdjoint(String name, Path dir) {
        SparseDictionary d = open(dir).standard();
        Random random = new Random(name.hashCode() + 8);
        try (NDManager scope = manager.newSubManager()) {
            for (int layer = 0; layer < d.layers(); layer++) {
                Optional<LinearMap> skip = d.skip(layer);
                if (skip.isEmpty()) {
                    continue;
                }
                LinearMap map = skip.get();
                assertThat(map.inputWidth()).isEqualTo(d.width());
                assertThat(map.outputWidth()).isEqualTo(d.width());
                NDArray x = gaussian(scope, random, positions(), d.width());
                NDArray y = gaussian(scope, random, positions(), d.width());
                NDArray g = gaussian(scope, random, positions(), d.width());
                assertClose(map.apply(x.mul(2).add(y)), map.apply(x).mul(2).add(map.apply(y)),
                        "skip of layer " + layer + " is linear");
                double forward = map.apply(x).mul(g).sum().getFloat();
                double backward = x.mul(map.applyAdjoint(g)).sum().getFloat();
                assertThat(backward).as("⟨skip(x), g⟩ = ⟨x, adjoint(g)⟩ at layer %d", layer)
                        .isCloseTo(forward, offset(tolerance() * Math.max(1,
                                Math.abs(forward)) * d.width()));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dictionaries")
    void aSavedCopyReadsBackIdentically(String name, Path dir, @TempDir Path scratch) {
        SparseDictionary original = open(dir).standard();
        assumeTrue(original.capabilities().contains(DictionaryCapability.WRITABLE), "not WRITABLE");
        Path copyDir = scratch.resolve("copy");
        original.save(copyDir);
        assertThat(provider().recognize(copyDir).matches()).as("%s recognizes the saved copy", provider().name()).isTrue();
        try (SparseDictionary copy = provider().create(DictionarySource.of(copyDir));
             NDManager scope = manager.newSubManager()) {
            assertThat(copy.layers()).isEqualTo(original.layers());
            assertThat(copy.width()).isEqualTo(original.width());
            assertThat(copy.readSite()).isEqualTo(original.readSite());
            assertThat(copy.writeSite()).isEqualTo(original.writeSite());
            assertThat(copy.capabilities()).isEqualTo(original.capabilities());
            for (int layer = 0; layer < original.layers(); layer++) {
                String where = "saved copy, layer " + layer + ": ";
                assertThat(copy.features(layer)).as(where + "features").isEqualTo(original.features(layer));
                assertThat(copy.activation(layer)).as(where + "activation").isEqualTo(original.activation(layer));
                assertThat(copy.outputLayers(layer)).as(where + "output layers").isEqualTo(original.outputLayers(layer));
                int[] all = IntStream.range(0, original.features(layer)).toArray();
                NDArray x = input(scope, original, layer, 9);
                assertThat(copy.encodeSparse(scope, layer, x, zeroedPositions())).as(where + "activations")
                        .isEqualTo(original.encodeSparse(scope, layer, x, zeroedPositions()));
                assertThat(copy.encoderRows(scope, layer, all).toFloatArray()).as(where + "encoder rows")
                        .containsExactly(original.encoderRows(scope, layer, all).toFloatArray());
                assertThat(copy.encoderBias(scope, layer, all).toFloatArray()).as(where + "encoder bias")
                        .containsExactly(original.encoderBias(scope, layer, all).toFloatArray());
                assertThat(copy.decoderBias(scope, layer).toFloatArray()).as(where + "decoder bias")
                        .containsExactly(original.decoderBias(scope, layer).toFloatArray());
                for (int out : original.outputLayers(layer)) {
                    assertThat(copy.decoderRows(scope, layer, all, out).toFloatArray()).as(where + "decoder rows")
                            .containsExactly(original.decoderRows(scope, layer, all, out).toFloatArray());
                }
                assertThat(copy.skip(layer).isPresent()).as(where + "skip").isEqualTo(original.skip(layer).isPresent());
                if (original.skip(layer).isPresent()) {
                    assertThat(copy.skip(layer).get().apply(x).toFloatArray()).as(where + "skip")
                            .containsExactly(original.skip(layer).get().apply(x).toFloatArray());
                }
            }
        }
    }

    // ---------------------------------------------------------------- errors

    @ParameterizedTest(name = "{0}")
    @MethodSource("dictionaries")
    void outOfRangeRequestsAreInvalidArguments(String name, Path dir) {
        SparseDictionary d = open(dir).standard();
        int last = d.layers() - 1;
        try (NDManager scope = manager.newSubManager()) {
            NDArray x = input(scope, d, 0, 10);
            expectInvalid(() -> d.features(d.layers()), "features of layer L");
            expectInvalid(() -> d.encode(scope, -1, x, Set.of()), "encoding layer -1");
            expectInvalid(() -> d.encodeSparse(scope, d.layers(), x, Set.of()), "encoding layer L");
            expectInvalid(() -> d.encode(scope, 0, x.get(":, 1:"), Set.of()), "encoding an input of width d - 1");
            expectInvalid(() -> d.encoderRows(scope, last, new int[] {d.features(last)}), "encoder row F");
            expectInvalid(() -> d.encoderBias(scope, 0, new int[] {-1}), "encoder bias of feature -1");
            expectInvalid(() -> d.decoderRows(scope, 0, new int[] {d.features(0)}, d.outputLayers(0)[0]),
                    "decoder row F");
            expectInvalid(() -> d.decoderBias(scope, d.layers()), "decoder bias of layer L");
            expectInvalid(() -> d.skip(-1), "skip of layer -1");
            expectInvalid(() -> d.decode(scope, 0, List.of(), x), "decoding without the activations of layer 0");
        }
    }

    // ---------------------------------------------------------------- helpers

    /** A reproducible input for (directory, layer, rule). */
    private NDArray input(NDManager scope, SparseDictionary d, int layer, int rule) {
        Random random = new Random(31L * (31L * d.scan().hashCode() + layer) + rule);
        NDArray x = sampleInput(scope, d, layer, positions(), random);
        assertThat(x.getShape()).as("sampleInput shape").isEqualTo(new Shape(positions(), d.width()));
        return x;
    }

    private static NDArray gaussian(NDManager scope, Random random, int rows, int cols) {
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return scope.create(values, new Shape(rows, cols));
    }

    private static int[] writersOf(SparseDictionary d, int outputLayer) {
        return IntStream.range(0, d.layers()).filter(l -> Arrays.binarySearch(d.outputLayers(l), outputLayer) >= 0)
                .toArray();
    }

    private static SparseActivations nonZeros(int layer, int positions, int features, float[] dense) {
        List<int[]> coordinates = new ArrayList<>();
        List<Float> values = new ArrayList<>();
        for (int p = 0; p < positions; p++) {
            for (int f = 0; f < features; f++) {
                float v = dense[p * features + f];
                if (v != 0) {
                    coordinates.add(new int[] {p, f});
                    values.add(v);
                }
            }
        }
        float[] v = new float[values.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = values.get(i);
        }
        return new SparseActivations(layer, positions, coordinates.stream().mapToInt(c -> c[0]).toArray(),
                coordinates.stream().mapToInt(c -> c[1]).toArray(), v);
    }

    private static float[] pick(float[] matrix, int[] rows, int width) {
        float[] out = new float[rows.length * width];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(matrix, rows[i] * width, out, i * width, width);
        }
        return out;
    }

    private static double maxAbs(float[] values) {
        double max = 0;
        for (float v : values) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }

    private void assertClose(NDArray actual, NDArray expected, String what) {
        assertThat(actual.getShape()).as("%s: shape", what).isEqualTo(expected.getShape());
        float[] a = actual.toFloatArray();
        float[] e = expected.toFloatArray();
        double tol = tolerance() * Math.max(1, maxAbs(e));
        for (int i = 0; i < a.length; i++) {
            if (!(Math.abs(a[i] - e[i]) <= tol)) {
                fail("%s: element %d is %s, expected %s (tolerance %.3g)", what, i, a[i], e[i], tol);
            }
        }
    }

    private static void expectInvalid(ThrowableAssert.ThrowingCallable call, String what) {
        assertThatThrownBy(call).as(what).isInstanceOfSatisfying(CircuitTracerException.class,
                e -> assertThat(e.errorCode()).as("%s: %s", what, e.getMessage())
                        .isEqualTo(StandardErrorCode.INVALID_ARGUMENT));
    }
}
