package org.circuittracer.attribution;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.circuittracer.safetensors.ShardedCheckpoint;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.TransformerModel;

/**
 * Test scope only: a model that adds {@link BackendCapability#UNEMBEDDING} to another by reading the unembedding from
 * the checkpoint ({@code lm_head.weight}, else the tied {@code model.embed_tokens.weight} / GPT-2 {@code wte}), until
 * the djl backend implements it. Ignores any unembedding bias (the fixtures have none).
 */
final class CheckpointUnembedding extends ForwardingModel {

    private static final List<String> NAMES = List.of("lm_head.weight", "model.embed_tokens.weight",
            "transformer.wte.weight", "wte.weight");

    private final ShardedCheckpoint checkpoint;
    private final String name;
    private final Set<BackendCapability> capabilities;

    CheckpointUnembedding(TransformerModel model, Path directory) {
        super(model);
        this.checkpoint = ShardedCheckpoint.open(directory);
        this.name = NAMES.stream().filter(checkpoint::contains).findFirst().orElseThrow();
        EnumSet<BackendCapability> all = EnumSet.of(BackendCapability.UNEMBEDDING);
        all.addAll(model.capabilities());
        this.capabilities = Set.copyOf(all);
    }

    @Override
    public NDArray unembeddingVectors(NDManager manager, int[] tokenIds) {
        int vocabulary = config().vocabularySize();
        for (int id : tokenIds) {
            if (id < 0 || id >= vocabulary) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Token id " + id
                        + " is outside the vocabulary [0, " + vocabulary + ").");
            }
        }
        return manager.create(checkpoint.gatherRows(name, tokenIds), new Shape(tokenIds.length, config().modelWidth()));
    }

    @Override
    public NDArray meanUnembeddingVector(NDManager manager) {
        float[] all = checkpoint.readFloats(name);
        int d = config().modelWidth();
        double[] sum = new double[d];
        for (int i = 0; i < all.length; i++) {
            sum[i % d] += all[i];
        }
        float[] mean = new float[d];
        for (int j = 0; j < d; j++) {
            mean[j] = (float) (sum[j] / (all.length / d));
        }
        return manager.create(mean);
    }

    @Override
    public Set<BackendCapability> capabilities() {
        return capabilities;
    }

    @Override
    public void close() {
        checkpoint.close();
        super.close();
    }
}
