package org.circuittracer.transformer.linear;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The lane-folded, blocked attention adjoint against the straightforward broadcast formula it replaced
 * ({@code [1, H, P, P] @ [B, H, P, dh]}), at random shapes, block sizes and head groupings; and norm gains folded into
 * the projections against the unfolded composition.
 */
class FrozenAttentionTest {

    @Test
    void theFoldedAdjointEqualsTheBroadcastAdjointAtRandomShapes() {
        Random random = new Random(16);
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int trial = 0; trial < 60; trial++) {
                try (NDManager scope = manager.newSubManager()) {
                    int kv = 1 + random.nextInt(3);
                    int heads = kv * (1 + random.nextInt(3));
                    int dh = 1 + random.nextInt(6);
                    int d = 2 + random.nextInt(12);
                    int t = 1 + random.nextInt(12);
                    int p = 1 + random.nextInt(t);
                    int lanes = 1 + random.nextInt(5);
                    long block = switch (trial % 3) {
                        case 0 -> FrozenAttention.DEFAULT_BLOCK_FLOATS;
                        case 1 -> 1; // one query row per block
                        default -> 1 + random.nextInt(heads * t * t);
                    };
                    NDArray pattern = causalPattern(scope, random, heads, t); // [H, q, k]
                    NDArray value = scope.randomNormal(new Shape((long) kv * dh, d));
                    NDArray output = scope.randomNormal(new Shape(d, (long) heads * dh));
                    NDArray gradient = scope.randomNormal(new Shape(lanes, p, d));
                    FrozenAttention attention = new FrozenAttention(FrozenAttention.Pattern.recorded(pattern), value,
                            output, heads, kv, dh, block);
                    NDArray expected = broadcastAdjoint(pattern.transpose(0, 2, 1), value, output, heads, kv, dh,
                            gradient, p);
                    NDArray actual = attention.adjoint(gradient, p);
                    String what = "trial " + trial + ": B=" + lanes + " P=" + p + " T=" + t + " H=" + heads + " KV="
                            + kv + " dh=" + dh + " d=" + d + " block=" + block;
                    assertThat(actual.getShape()).as(what).isEqualTo(new Shape(lanes, p, d));
                    assertThat(actual.getManager()).as(what).isSameAs(gradient.getManager());
                    assertClose(actual, expected, what);
                    // the transposed-view constructor (what the backends pass) is the same attention
                    assertClose(new FrozenAttention(pattern.transpose(0, 2, 1), value, output, heads, kv, dh)
                            .adjoint(gradient, p), expected, what + " (view constructor)");
                }
            }
        }
    }

    /**
     * The per-head pieces of head loadings, in blocks of any size: the forward map is the adjoint's transpose, and the
     * heads' pairings add up to the whole attention's ({@code Σ_h ⟨Z[h], U[h]⟩ = ⟨ḡ, forward(u)⟩}).
     */
    @Test
    void theHeadPiecesAddUpToTheForwardMapWhoseTransposeIsTheAdjoint() {
        Random random = new Random(20);
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int trial = 0; trial < 40; trial++) {
                try (NDManager scope = manager.newSubManager()) {
                    int kv = 1 + random.nextInt(3);
                    int heads = kv * (1 + random.nextInt(3));
                    int dh = 1 + random.nextInt(5);
                    int d = 2 + random.nextInt(10);
                    int t = 1 + random.nextInt(10);
                    int p = 1 + random.nextInt(t);
                    long block = trial % 2 == 0 ? FrozenAttention.DEFAULT_BLOCK_FLOATS : 1 + random.nextInt(heads * t);
                    NDArray pattern = causalPattern(scope, random, heads, t);
                    FrozenAttention attention = new FrozenAttention(FrozenAttention.Pattern.recorded(pattern),
                            scope.randomNormal(new Shape((long) kv * dh, d)),
                            scope.randomNormal(new Shape(d, (long) heads * dh)), heads, kv, dh, block);
                    NDArray gradient = scope.randomNormal(new Shape(2, p, d));
                    NDArray input = scope.randomNormal(new Shape(3, p, d));
                    String what = "trial " + trial + ": P=" + p + " H=" + heads + " KV=" + kv + " block=" + block;
                    // ⟨ḡ_b, forward(u_s)⟩ = ⟨adjoint(ḡ_b), u_s⟩
                    NDArray forward = attention.forward(input, p);
                    NDArray viaForward = gradient.reshape(2, -1).matMul(forward.reshape(3, -1).transpose());
                    NDArray viaAdjoint = attention.adjoint(gradient, p).reshape(2, -1).matMul(input.reshape(3, -1)
                            .transpose());
                    assertClose(viaForward, viaAdjoint, what + " (forward vs adjoint)");
                    // Σ_h ⟨Z_b[h], U_s[h]⟩ is the same pairing
                    NDArray z = attention.headGradients(gradient, p); // [2, H, P·dh]
                    NDArray u = attention.headValues(input, p);       // [3, H, P·dh]
                    NDArray perHead = z.transpose(1, 0, 2).matMul(u.transpose(1, 2, 0)); // [H, 2, 3]
                    assertClose(perHead.sum(new int[] {0}), viaForward, what + " (heads)");
                    // blocks change nothing
                    FrozenAttention whole = new FrozenAttention(FrozenAttention.Pattern.recorded(pattern),
                            attention.valueAdjoint(), attention.outputAdjoint(), heads, kv, dh,
                            FrozenAttention.DEFAULT_BLOCK_FLOATS);
                    assertClose(z, whole.headGradients(gradient, p), what + " (blocked head gradients)");
                    assertClose(forward, whole.forward(input, p), what + " (blocked forward)");
                }
            }
        }
    }

    @Test
    void gainsFoldedIntoTheProjectionsGiveTheSameBlockAdjoint() {
        Random random = new Random(5);
        try (NDManager manager = NDManager.newBaseManager()) {
            for (boolean centred : new boolean[] {false, true}) {
                try (NDManager scope = manager.newSubManager()) {
                    int heads = 4;
                    int kv = 2;
                    int dh = 3;
                    int d = 7;
                    int t = 6;
                    int p = 5;
                    FrozenAttention attention = new FrozenAttention(FrozenAttention.Pattern.recorded(
                            causalPattern(scope, random, heads, t)), scope.randomNormal(new Shape((long) kv * dh, d)),
                            scope.randomNormal(new Shape(d, (long) heads * dh)), heads, kv, dh, 1 << 20);
                    FrozenNorm ln1 = norm(scope, d, t, centred);
                    FrozenNorm post = norm(scope, d, t, centred);
                    FrozenNorm ln2 = norm(scope, d, t, centred);
                    FrozenLayer layer = new FrozenLayer(ln1, attention, post, ln2, null);
                    FrozenLayer folded = layer.folded();
                    assertThat(folded.ln1().gain()).isNull();
                    assertThat(folded.ln1Post().gain() == null).isEqualTo(!centred); // a centred post-norm keeps it
                    assertThat(folded.folded()).isSameAs(folded);
                    NDArray gradient = scope.randomNormal(new Shape(3, p, d));
                    assertClose(block(folded, gradient, p), block(layer, gradient, p), "centred " + centred);
                }
            }
        }
    }

    @Test
    void badHeadCountsAreRejected() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray pattern = manager.ones(new Shape(3, 2, 2));
            NDArray w = manager.ones(new Shape(2, 2));
            assertThatThrownBy(() -> new FrozenAttention(pattern, w, w, 3, 2, 1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple");
            assertThatThrownBy(() -> new FrozenAttention(FrozenAttention.Pattern.recorded(pattern), w, w, 2, 2, 1, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("blockFloats");
        }
    }

    /** The attention part of a block's adjoint: ln1 ∘ attention ∘ ln1Post. */
    private static NDArray block(FrozenLayer layer, NDArray gradient, int p) {
        return layer.ln1().adjoint(layer.attention().adjoint(layer.ln1Post().adjoint(gradient, p), p), p);
    }

    private static FrozenNorm norm(NDManager manager, int d, int t, boolean centred) {
        return new FrozenNorm(manager.randomNormal(new Shape(d)), centred, manager.randomUniform(0.5f, 2f,
                new Shape(t, 1)));
    }

    /** The adjoint as it was before issue 16: the pattern broadcast over lanes. */
    static NDArray broadcastAdjoint(NDArray keysByQueries, NDArray value, NDArray output, int heads, int kv, int dh,
                                    NDArray gradient, int p) {
        long lanes = gradient.getShape().get(0);
        NDArray perHead = gradient.matMul(output).reshape(lanes, p, heads, dh).transpose(0, 2, 1, 3);
        NDArray pattern = keysByQueries.get(new NDIndex(":, :{}, :{}", p, p)).expandDims(0);
        NDArray values = pattern.matMul(perHead);
        if (kv < heads) {
            values = values.reshape(lanes, kv, heads / kv, p, dh).sum(new int[] {2});
        }
        return values.transpose(0, 2, 1, 3).reshape(lanes, p, (long) kv * dh).matMul(value);
    }

    /** A random row-stochastic [H, q, k] pattern, zero above the diagonal (as a causal model records it). */
    static NDArray causalPattern(NDManager manager, Random random, int heads, int t) {
        float[] values = new float[heads * t * t];
        for (int h = 0; h < heads; h++) {
            for (int q = 0; q < t; q++) {
                double sum = 0;
                for (int k = 0; k <= q; k++) {
                    values[(h * t + q) * t + k] = random.nextFloat() + 0.01f;
                    sum += values[(h * t + q) * t + k];
                }
                for (int k = 0; k <= q; k++) {
                    values[(h * t + q) * t + k] /= (float) sum;
                }
            }
        }
        return manager.create(values, new Shape(heads, t, t));
    }

    static void assertClose(NDArray actual, NDArray expected, String what) {
        float[] a = actual.toFloatArray();
        float[] e = expected.toFloatArray();
        assertThat(a).as(what).hasSameSizeAs(e);
        double scale = 1e-6;
        for (float v : e) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < a.length; i++) {
            assertThat((double) Math.abs(a[i] - e[i])).as("%s: element %d (%s vs %s)", what, i, a[i], e[i])
                    .isLessThanOrEqualTo(1e-5 * scale);
        }
    }
}
