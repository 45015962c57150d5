package org.circuittracer.dashboards;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.ForwardResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;

/** Corpora for the dashboard tests, and the dense oracle's activations. */
public final class DashboardFixtures {

    private DashboardFixtures() {
    }

    /**
     * {@code n} random sequences of ids in {@code [3, V)} with lengths in {@code [minLength, maxLength]}, each starting
     * with the llama fixture's special token 0 when {@code withSpecial}.
     */
    public static List<TokenSequence> randomSequences(long seed, int n, int minLength, int maxLength, int vocabulary,
                                                      boolean withSpecial) {
        Random random = new Random(seed);
        List<TokenSequence> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int length = minLength + random.nextInt(maxLength - minLength + 1);
            int[] ids = new int[length];
            for (int p = 0; p < length; p++) {
                ids[p] = p == 0 && withSpecial ? 0 : 3 + random.nextInt(vocabulary - 3);
            }
            out.add(new TokenSequence(ids));
        }
        return out;
    }

    /** Dense activations {@code [layer][position][feature]} of one sequence, position 0 zeroed, via {@code encode}. */
    public static float[][][] denseActivations(TransformerModel model, SparseDictionary dictionary,
                                               TokenSequence tokens) {
        int layers = dictionary.layers();
        float[][][] out = new float[layers][][];
        try (NDManager manager = NDManager.newBaseManager()) {
            ForwardResult r = model.forward(manager, tokens, dictionary.readSites().stream().<Hook>map(Hook.Capture::new)
                    .toList());
            for (int l = 0; l < layers; l++) {
                NDArray dense = dictionary.encode(manager, l, r.capturedAt(dictionary.readSites().get(l)), Set.of(0));
                float[] flat = dense.toFloatArray();
                int f = dictionary.features(l);
                out[l] = new float[tokens.length()][f];
                for (int p = 0; p < tokens.length(); p++) {
                    System.arraycopy(flat, p * f, out[l][p], 0, f);
                }
            }
        }
        return out;
    }
}
