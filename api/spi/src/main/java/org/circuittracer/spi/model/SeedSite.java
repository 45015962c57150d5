package org.circuittracer.spi.model;

import org.circuittracer.spi.CircuitTracerException;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Where one lane of a {@link VjpSeeds} batch injects its cotangent: the dictionary's read site of a layer (a feature
 * target), or the final normalised residual {@code unembed.hook_in} (a logit direction).
 */
@ProviderType
public sealed interface SeedSite {

    /** The seeded position (≥ 0). */
    int position();

    /**
     * How deep the seed sits in a model of {@code modelLayers} blocks: its layer for a read site, {@code modelLayers}
     * for the unembedding (above every block). Write sites below the depth can receive gradient.
     */
    int depth(int modelLayers);

    /**
     * The dictionary's read site of a layer (what its encoder reads), e.g. a feature's pre-activation.
     *
     * @param layer    the block index (≥ 0)
     * @param position the position (≥ 0)
     */
    record ReadSite(int layer, int position) implements SeedSite {

        public ReadSite {
            if (layer < 0 || position < 0) {
                throw CircuitTracerException.invalidArgument("A read-site seed needs a layer and a position >= 0, got "
                        + "layer " + layer + ", position " + position + ".");
            }
        }

        @Override
        public int depth(int modelLayers) {
            return layer;
        }
    }

    /**
     * The final normalised residual ({@code unembed.hook_in}), where logit directions are seeded.
     *
     * @param position the position (≥ 0)
     */
    record Unembedding(int position) implements SeedSite {

        public Unembedding {
            if (position < 0) {
                throw CircuitTracerException.invalidArgument("An unembedding seed needs a position >= 0, got "
                        + position + ".");
            }
        }

        @Override
        public int depth(int modelLayers) {
            return modelLayers;
        }
    }
}
