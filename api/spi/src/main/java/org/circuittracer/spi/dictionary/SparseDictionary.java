package org.circuittracer.spi.dictionary;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.circuittracer.spi.Capability;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.LinearMap;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A set of sparse dictionaries covering every layer of a model: per-layer transcoders (each source layer writes
 * only to its own output site) or a cross-layer transcoder (source layer ℓ writes to the output sites of ℓ … L−1).
 *
 * <p>Features are identified by (source layer, feature id). The decoder is linear: the reconstruction at output layer
 * {@code m} is {@code Σ_{ℓ ≤ m} Σ_f a_{ℓ,f} · decoderRow(ℓ, f, m) + decoderBias(m) + skip_m(x_m)}, which is what
 * keeps attribution exact. Every returned array belongs to the {@link NDManager} passed in. Implementations are
 * thread-safe.
 */
@ConsumerType
public interface SparseDictionary extends AutoCloseable {

    /** The provider name of the format it was read with. */
    String formatName();

    /** An identifier for feature visualisations ({@code scan} in graph files), e.g. a repository id or a path. */
    String scan();

    /** Number of layers {@code L}; source and output layers are {@code 0 … L−1}. */
    int layers();

    /** The input width {@code d} (the model's residual width). */
    int width();

    /** Features per source layer. */
    int features(int layer);

    /** The input site kind all layers read (e.g. {@link SiteKind#MLP_IN}). */
    SiteKind readSite();

    /** The output site kind all layers write (e.g. {@link SiteKind#MLP_OUT}). */
    SiteKind writeSite();

    /** The read sites, one per layer, layer order. */
    default List<HookSite> readSites() {
        return java.util.stream.IntStream.range(0, layers()).mapToObj(l -> HookSite.of(readSite(), l)).toList();
    }

    /** The write sites, one per layer, layer order. */
    default List<HookSite> writeSites() {
        return java.util.stream.IntStream.range(0, layers()).mapToObj(l -> HookSite.of(writeSite(), l)).toList();
    }

    /** The output layers features of {@code sourceLayer} write to, ascending (just {@code sourceLayer} for a PLT). */
    int[] outputLayers(int sourceLayer);

    ActivationFunction activation(int layer);

    Set<DictionaryCapability> capabilities();

    /** Pre-activations {@code h = x·W_encᵀ + b_enc}: {@code x [T, d] → [T, F]}. */
    NDArray preActivations(NDManager manager, int layer, NDArray input);

    /** Dense activations {@code σ(h)}: {@code x [T, d] → [T, F]}; rows at {@code zeroedPositions} are zero. */
    NDArray encode(NDManager manager, int layer, NDArray input, Set<Integer> zeroedPositions);

    /** The non-zero entries of {@link #encode}, without materialising the dense matrix where avoidable. */
    SparseActivations encodeSparse(NDManager manager, int layer, NDArray input, Set<Integer> zeroedPositions);

    /**
     * The reconstruction at {@code outputLayer}: {@code [T, d]}, including the decoder bias and, if present, the skip
     * term of {@code outputInput}.
     *
     * @param activations the sparse activations of every source layer {@code ≤ outputLayer} that writes to it
     * @param outputInput {@code [T, d]} the read-site value of {@code outputLayer} (for the skip term)
     */
    NDArray decode(NDManager manager, int outputLayer, List<SparseActivations> activations, NDArray outputInput);

    /** Decoder rows of the given features of {@code sourceLayer} for {@code outputLayer}: {@code [n, d]}. */
    NDArray decoderRows(NDManager manager, int sourceLayer, int[] features, int outputLayer);

    /** Encoder rows of the given features: {@code [n, d]}; {@code ⟨x, row⟩ + bias} is the pre-activation. */
    NDArray encoderRows(NDManager manager, int layer, int[] features);

    /** Encoder biases of the given features: {@code [n]}. */
    NDArray encoderBias(NDManager manager, int layer, int[] features);

    /** The decoder bias of an output layer: {@code [d]}. */
    NDArray decoderBias(NDManager manager, int outputLayer);

    /** The skip connection into {@code outputLayer}'s output site, if it has one. */
    Optional<LinearMap> skip(int outputLayer);

    /**
     * Writes the dictionary into {@code directory} (created if absent, must not already hold a dictionary) in its
     * format, so that its provider reads it back with identical results. Only dictionaries that declare
     * {@link DictionaryCapability#WRITABLE} can; the conformance kit checks the round trip.
     *
     * @throws CircuitTracerException MISSING_CAPABILITY without WRITABLE; FILE_NOT_FOUND if it cannot be written
     */
    default void save(Path directory) {
        Capability.require("dictionary format", formatName(), capabilities(), DictionaryCapability.WRITABLE, "saving");
        throw new CircuitTracerException(StandardErrorCode.PLUGIN_FAILURE, "Dictionary format '" + formatName()
                + "' declares WRITABLE but does not implement save(Path); report this to the plugin's authors.");
    }

    @Override
    void close();
}
