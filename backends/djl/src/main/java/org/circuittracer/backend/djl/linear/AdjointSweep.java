package org.circuittracer.backend.djl.linear;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.HashMap;
import java.util.Map;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.LinearMap;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.VjpResult;
import org.circuittracer.spi.model.VjpSeeds;
import org.circuittracer.spi.site.SiteKind;

/**
 * The vector-Jacobian product of a {@link FrozenTransformer}: the reverse sweep of docs/reference/algorithm.md §2.8, batched over
 * lanes and truncated to the layers below the highest seed and the positions up to the last seeded one. Every MLP is
 * cut (only skip maps carry gradient through it), so the gradient read at a write site is the direct effect.
 */
public final class AdjointSweep {

    private AdjointSweep() {
    }

    /**
     * @param manager owns the returned arrays
     * @throws CircuitTracerException INVALID_ARGUMENT for seeds outside the model or the prompt, or of the wrong width
     */
    public static VjpResult run(NDManager manager, FrozenTransformer model, LinearizationSpec spec, VjpSeeds seeds) {
        validate(model, seeds);
        int layers = model.layers().size();
        int lanes = seeds.lanes();
        int positions = seeds.positionBound();
        // write sites below `top` can matter; the sweep starts at the highest seeded layer to inject its seed there
        int top = seeds.layerBound(layers);
        int start = Math.min(top, layers - 1);
        int[] seedLayers = seeds.layers();
        int[] seedPositions = seeds.positions();
        try (NDManager scope = manager.newSubManager()) {
            // a float32 copy owned by the scope, so that everything derived from it is freed with the scope
            NDArray vectors = seeds.vectors().toType(DataType.FLOAT32, true);
            vectors.attach(scope);
            // ḡ(r_L): logit-direction seeds enter through the final norm
            NDArray residual = scope.zeros(new Shape(lanes, positions, model.width()));
            NDArray unembed = injection(scope, vectors, seedLayers, seedPositions, VjpSeeds.UNEMBED, positions);
            if (unembed != null) {
                residual = model.finalNorm().adjoint(unembed, positions);
            }
            Map<Integer, NDArray> writeGradients = new HashMap<>();
            for (int layer = start; layer >= 0; layer--) {
                FrozenLayer block = model.layers().get(layer);
                NDArray out = spec.writeSite() == SiteKind.MLP_OUT_RAW && block.ln2Post() != null
                        ? block.ln2Post().adjoint(residual, positions) : residual;
                if (layer < top) {
                    writeGradients.put(layer, out);
                }
                NDArray input = null; // ḡ(x_ℓ) at the dictionary's read site
                LinearMap skip = spec.skipByLayer().get(layer);
                if (skip != null) {
                    input = skip.applyAdjoint(out);
                }
                NDArray seeded = injection(scope, vectors, seedLayers, seedPositions, layer, positions);
                if (seeded != null) {
                    input = input == null ? seeded : input.add(seeded);
                }
                NDArray mid = input == null ? residual : residual.add(readSiteAdjoint(block, spec.readSite(), input, positions));
                NDArray attention = block.ln1Post() == null ? mid : block.ln1Post().adjoint(mid, positions);
                NDArray attentionInput = block.attention().adjoint(attention, positions);
                residual = mid.add(block.ln1().adjoint(attentionInput, positions));
            }
            writeGradients.values().forEach(g -> g.attach(manager));
            residual.attach(manager);
            return new VjpResult(writeGradients, residual, positions);
        }
    }

    private static NDArray readSiteAdjoint(FrozenLayer block, SiteKind readSite, NDArray gradient, int positions) {
        return switch (readSite) {
            case RESID_MID -> gradient;
            case LN2_NORMALIZED -> block.ln2().withoutGain().adjoint(gradient, positions);
            case MLP_IN -> block.ln2().adjoint(gradient, positions);
            default -> throw new IllegalArgumentException("not a read site: " + readSite);
        };
    }

    /** {@code [B, P, d]} with the seed vector at (lane, position) for the lanes seeded at {@code layer}; null if none. */
    private static NDArray injection(NDManager scope, NDArray vectors, int[] seedLayers, int[] seedPositions, int layer,
                                     int positions) {
        float[] mask = new float[seedLayers.length * positions];
        boolean any = false;
        for (int lane = 0; lane < seedLayers.length; lane++) {
            if (seedLayers[lane] == layer) {
                mask[lane * positions + seedPositions[lane]] = 1f;
                any = true;
            }
        }
        if (!any) {
            return null;
        }
        NDArray oneHot = scope.create(mask, new Shape(seedLayers.length, positions, 1));
        return oneHot.mul(vectors.expandDims(1));
    }

    private static void validate(FrozenTransformer model, VjpSeeds seeds) {
        int layers = model.layers().size();
        int[] seedLayers = seeds.layers();
        int[] seedPositions = seeds.positions();
        for (int lane = 0; lane < seeds.lanes(); lane++) {
            if (seedLayers[lane] != VjpSeeds.UNEMBED && (seedLayers[lane] < 0 || seedLayers[lane] >= layers)) {
                throw invalid("Seed " + lane + " names layer " + seedLayers[lane] + ", but the model has layers 0 to "
                        + (layers - 1) + " (use VjpSeeds.UNEMBED for logit directions).");
            }
            if (seedPositions[lane] < 0 || seedPositions[lane] >= model.length()) {
                throw invalid("Seed " + lane + " names position " + seedPositions[lane] + ", but the prompt has "
                        + model.length() + " positions.");
            }
        }
        if (seeds.vectors().getShape().get(1) != model.width()) {
            throw invalid("Seed vectors have width " + seeds.vectors().getShape().get(1) + ", but the model's residual "
                    + "width is " + model.width() + ".");
        }
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }
}
