package org.circuittracer.transformer.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.Objects;
import java.util.function.Supplier;
import org.circuittracer.transformer.linear.FrozenQueryKey;

/**
 * An attention layer's queries and keys, linearised around the clean pass: the pre-attention norm divides by its clean
 * scale (its gain applied, its bias a constant), the projections drop their biases, per-head query and key norms divide
 * by the clean head vector's root mean square, and the position's rotation is applied. The clean queries and keys are
 * the forward pass's own ({@link Attention#queries}, {@link Attention#keys}). Arrays belong to {@code state}.
 */
public final class BlockQueryKey implements FrozenQueryKey {

    private final Attention attention;
    private final NormWeights ln1;
    private final NDArray ln1Scale;
    private final Supplier<NDArray> residual;
    private final NDManager state;
    private NDArray cleanInput;   // [T, d] the normed clean input u, float32; computed on first use
    private NDArray cleanQueries; // [H, T, dh], float32
    private NDArray cleanKeys;    // [KV, T, dh], float32
    private DataType modelType;   // what the projections take

    /**
     * @param residual gives {@code [T, d]}, the clean {@code hook_resid_pre} of the block, when first needed
     * @param ln1Scale {@code [T, 1]} its clean {@code ln1.hook_scale}
     */
    public BlockQueryKey(Block block, Supplier<NDArray> residual, NDArray ln1Scale, NDManager state) {
        this(block.attention(), block.ln1(), residual, ln1Scale, state);
    }

    /**
     * The same from an attention layer and its pre-attention norm (a backend that has no {@link Block}, e.g. one
     * whose weights come from an exported graph).
     */
    public BlockQueryKey(Attention attention, NormWeights ln1, Supplier<NDArray> residual, NDArray ln1Scale,
                         NDManager state) {
        this.attention = Objects.requireNonNull(attention, "attention");
        this.ln1 = Objects.requireNonNull(ln1, "ln1");
        this.residual = Objects.requireNonNull(residual, "residual");
        this.state = Objects.requireNonNull(state, "state");
        this.ln1Scale = Objects.requireNonNull(ln1Scale, "clean ln1.hook_scale");
    }

    /** The clean normed input, queries and keys, computed once (what the forward pass computes). */
    private synchronized void prepare() {
        if (cleanQueries != null) {
            return;
        }
        NDArray residual = Objects.requireNonNull(this.residual.get(), "clean hook_resid_pre");
        int length = Math.toIntExact(residual.getShape().get(0));
        modelType = residual.getDataType();
        try (NDManager scope = state.newSubManager()) {
            scope.tempAttachAll(residual, ln1Scale); // temporaries land in the scope
            NDArray u = ln1.applyWithScale(residual, ln1Scale);
            u.attach(scope);
            RotaryEmbedding.Tables rotation = attention.settings().rotary()
                    .map(r -> r.tables(scope, 0, length, u.getDataType())).orElse(null);
            NDArray queries = attention.queries(u, rotation).toType(DataType.FLOAT32, true);
            NDArray keys = attention.keys(u, rotation).toType(DataType.FLOAT32, true);
            NDArray input = u.toType(DataType.FLOAT32, true);
            queries.attach(state);
            keys.attach(state);
            input.attach(state);
            this.cleanQueries = queries;
            this.cleanKeys = keys;
            this.cleanInput = input;
        }
    }

    @Override
    public NDArray queries(NDArray changes, int head, int position) {
        return project(changes, attention.weights().query(), attention.weights().queryNorm().orElse(null), head,
                position);
    }

    @Override
    public NDArray keys(NDArray changes, int kvHead, int position) {
        return project(changes, attention.weights().key(), attention.weights().keyNorm().orElse(null), kvHead,
                position);
    }

    /** {@code [S, d]} → {@code [S, dh]}: frozen norm, projection without bias, frozen head norm, rotation. */
    private NDArray project(NDArray changes, Linear projection, NormWeights headNorm, int head, int position) {
        prepare();
        int width = attention.settings().headWidth();
        NDManager owner = changes.getManager();
        try (NDManager scope = owner.newSubManager()) {
            scope.tempAttachAll(changes);
            NDArray scale = ln1Scale.get(new NDIndex("{}", position)).toType(DataType.FLOAT32, false); // [1]
            scale.attach(scope);
            NDArray u = ln1.centered(changes.toType(DataType.FLOAT32, false)).div(scale).mul(ln1.gain());
            NDArray projected = projection.apply(u.toType(modelType, false)).toType(DataType.FLOAT32, false);
            if (projection.bias().isPresent()) {
                projected = projected.sub(projection.bias().get().toType(DataType.FLOAT32, false));
            }
            NDArray part = projected.get(new NDIndex(":, {}:{}", head * width, (head + 1) * width))
                    .toType(DataType.FLOAT32, false); // [S, dh]
            if (headNorm != null) {
                // the clean head vector before its norm: u_clean · W + b at this position
                NDArray cleanU = cleanInput.get(new NDIndex("{}:{}", position, position + 1));
                cleanU.attach(scope);
                NDArray cleanHead = projection.apply(cleanU.toType(modelType, false)).get(new NDIndex(":, {}:{}", head * width,
                        (head + 1) * width)).toType(DataType.FLOAT32, false); // [1, dh]
                NDArray rms = headNorm.scale(headNorm.centered(cleanHead));
                part = headNorm.centered(part).div(rms).mul(headNorm.gain().toType(DataType.FLOAT32, false));
            }
            NDArray normed = part;
            NDArray rotated = attention.settings().rotary().map(r -> RotaryEmbedding.apply(
                    normed.expandDims(1), r.tables(scope, position, 1, DataType.FLOAT32)).squeeze(1)).orElse(normed);
            NDArray result = rotated.toType(DataType.FLOAT32, true);
            result.attach(owner);
            return result;
        }
    }

    @Override
    public float[] cleanQuery(int head, int position) {
        prepare();
        return slice(cleanQueries, head, position);
    }

    @Override
    public float[] cleanKey(int kvHead, int position) {
        prepare();
        return slice(cleanKeys, kvHead, position);
    }

    private float[] slice(NDArray vectors, int head, int position) {
        prepare();
        try (NDManager scope = state.newSubManager()) {
            NDArray row = vectors.get(new NDIndex("{}, {}", head, position));
            row.attach(scope);
            return row.toFloatArray();
        }
    }

    @Override
    public float scale() {
        return attention.settings().scale();
    }

    @Override
    public float logitSoftcap() {
        return attention.settings().logitSoftcap();
    }

    @Override
    public int groupSize() {
        return attention.settings().groupSize();
    }
}
