package org.circuittracer.demo.training;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Trains ReLU transcoders on an {@link ActivationSample}: per-layer (each layer's MLP output from its own MLP input)
 * or cross-layer (layer {@code j}'s output from the features of every layer {@code l ≤ j}).
 *
 * <p>Loss: the squared reconstruction error of each layer divided by that layer's output variance, plus
 * {@code sparsity · Σ a_f · ‖decoder row f‖} (the decoder norm keeps the penalty from being dodged by shrinking
 * activations and growing decoder rows). AdamW, seeded batches of token positions.
 */
public final class TranscoderTrainer {

    /** Training settings. */
    public record Settings(int features, int steps, int batchSize, float learningRate, float sparsity, long seed) {
    }

    /** One layer's quality on the sample: fraction of variance unexplained and mean active features per token. */
    public record LayerQuality(int layer, double fractionOfVarianceUnexplained, double l0) {
        @Override
        public String toString() {
            return String.format("layer %d: FVU %.3f, L0 %.1f", layer, fractionOfVarianceUnexplained, l0);
        }
    }

    /**
     * Trained weights. Per layer {@code l}: {@code encoder [F, d]}, {@code encoderBias [F]},
     * {@code decoder [F, outputs(l), d]} (1 output for per-layer, {@code L − l} for cross-layer),
     * {@code decoderBias [d]} (of output layer {@code l}).
     */
    public record Weights(boolean crossLayer, int layers, int features, int width, List<float[]> encoder,
                          List<float[]> encoderBias, List<float[]> decoder, List<float[]> decoderBias) {
        public int outputs(int layer) {
            return crossLayer ? layers - layer : 1;
        }
    }

    private final Settings settings;

    public TranscoderTrainer(Settings settings) {
        this.settings = settings;
    }

    /** Trains on {@code sample}; reports the loss every 100 steps. */
    public Weights train(ActivationSample sample, boolean crossLayer, Consumer<String> progress) {
        int layers = sample.inputs().size();
        int d = sample.width();
        int f = settings.features();
        Random random = new Random(settings.seed());
        try (NDManager manager = NDManager.newBaseManager()) {
            float[] variance = new float[layers];
            float[][] mean = new float[layers][];
            for (int l = 0; l < layers; l++) {
                mean[l] = columnMean(sample.outputs().get(l), sample.rows(), d);
                variance[l] = meanSquaredDeviation(sample.outputs().get(l), mean[l], sample.rows(), d);
            }
            List<NDArray> enc = new ArrayList<>();
            List<NDArray> encBias = new ArrayList<>();
            List<NDArray> dec = new ArrayList<>();
            List<NDArray> decBias = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                int outputs = crossLayer ? layers - l : 1;
                float[] decoder = gaussian(random, f * outputs * d, (float) (Math.sqrt(variance[l] / d) * 0.1));
                float[] encoder = gaussian(random, d * f, (float) (1 / Math.sqrt(d)));
                dec.add(manager.create(decoder, new Shape(f, (long) outputs * d)));
                enc.add(manager.create(encoder, new Shape(d, f)));
                encBias.add(manager.zeros(new Shape(f)));
                decBias.add(manager.create(mean[l], new Shape(d)));
            }
            List<NDArray> parameters = new ArrayList<>();
            parameters.addAll(enc);
            parameters.addAll(encBias);
            parameters.addAll(dec);
            parameters.addAll(decBias);
            AdamW optimiser = new AdamW(parameters, 0.9f, 0.999f, 1e-8f, 0f, 1f);
            for (int step = 1; step <= settings.steps(); step++) {
                try (NDScope ignored = new NDScope()) {
                    int[] rows = random.ints(settings.batchSize(), 0, sample.rows()).toArray();
                    List<NDArray> x = new ArrayList<>();
                    List<NDArray> y = new ArrayList<>();
                    for (int l = 0; l < layers; l++) {
                        x.add(manager.create(gather(sample.inputs().get(l), rows, d), new Shape(rows.length, d)));
                        y.add(manager.create(gather(sample.outputs().get(l), rows, d), new Shape(rows.length, d)));
                    }
                    float loss;
                    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                        optimiser.zeroGradients();
                        NDArray total = loss(x, y, enc, encBias, dec, decBias, variance, crossLayer, d);
                        collector.backward(total);
                        loss = total.getFloat();
                    }
                    float lr = settings.learningRate() * Math.min(1f, step / 100f)
                            * (step > settings.steps() * 0.8 ? 0.3f : 1f);
                    optimiser.step(lr);
                    if (step % 250 == 0 || step == settings.steps()) {
                        progress.accept(String.format("  step %5d / %d  loss %.4f", step, settings.steps(), loss));
                    }
                }
            }
            return export(crossLayer, layers, f, d, enc, encBias, dec, decBias);
        }
    }

    private NDArray loss(List<NDArray> x, List<NDArray> y, List<NDArray> enc, List<NDArray> encBias,
                         List<NDArray> dec, List<NDArray> decBias, float[] variance, boolean crossLayer, int d) {
        int layers = x.size();
        long batch = x.get(0).getShape().get(0);
        NDArray[] reconstruction = new NDArray[layers];
        NDArray penalty = null;
        for (int l = 0; l < layers; l++) {
            NDArray a = x.get(l).matMul(enc.get(l)).add(encBias.get(l)).maximum(0f);
            NDArray decoderNorms = dec.get(l).square().sum(new int[] {1}).sqrt();
            NDArray p = a.mul(decoderNorms).sum().div((float) batch);
            penalty = penalty == null ? p : penalty.add(p);
            int outputs = crossLayer ? layers - l : 1;
            NDArray out = a.matMul(dec.get(l)).reshape(batch, outputs, d);
            NDList perOutput = out.split(outputs, 1);
            for (int k = 0; k < outputs; k++) {
                int target = l + k;
                NDArray part = perOutput.get(k).reshape(batch, d);
                reconstruction[target] = reconstruction[target] == null ? part : reconstruction[target].add(part);
            }
        }
        NDArray mse = null;
        for (int j = 0; j < layers; j++) {
            NDArray error = y.get(j).sub(reconstruction[j].add(decBias.get(j)));
            NDArray e = error.square().sum().div((float) batch * variance[j]);
            mse = mse == null ? e : mse.add(e);
        }
        return mse.add(penalty.mul(settings.sparsity()));
    }

    /** FVU and L0 per layer of {@code weights} on {@code sample} (all rows). */
    public static List<LayerQuality> quality(Weights w, ActivationSample sample) {
        int layers = w.layers();
        int d = w.width();
        int f = w.features();
        int n = sample.rows();
        double[] residual = new double[layers];
        double[] active = new double[layers];
        float[][] reconstruction = new float[layers][];
        for (int j = 0; j < layers; j++) {
            reconstruction[j] = new float[n * d];
        }
        float[] acts = new float[f];
        for (int l = 0; l < layers; l++) {
            float[] x = sample.inputs().get(l);
            float[] enc = w.encoder().get(l);
            float[] bias = w.encoderBias().get(l);
            float[] dec = w.decoder().get(l);
            int outputs = w.outputs(l);
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < f; i++) {
                    float s = bias[i];
                    int e = i * d;
                    for (int k = 0; k < d; k++) {
                        s += enc[e + k] * x[r * d + k];
                    }
                    acts[i] = Math.max(0f, s);
                    if (s > 0) {
                        active[l]++;
                    }
                }
                for (int i = 0; i < f; i++) {
                    if (acts[i] == 0f) {
                        continue;
                    }
                    for (int o = 0; o < outputs; o++) {
                        float[] rec = reconstruction[l + o];
                        int base = (i * outputs + o) * d;
                        for (int k = 0; k < d; k++) {
                            rec[r * d + k] += acts[i] * dec[base + k];
                        }
                    }
                }
            }
        }
        List<LayerQuality> out = new ArrayList<>();
        for (int j = 0; j < layers; j++) {
            float[] y = sample.outputs().get(j);
            float[] mean = columnMean(y, n, d);
            float[] b = w.decoderBias().get(j);
            for (int r = 0; r < n; r++) {
                for (int k = 0; k < d; k++) {
                    double e = y[r * d + k] - reconstruction[j][r * d + k] - b[k];
                    residual[j] += e * e;
                }
            }
            double total = meanSquaredDeviation(y, mean, n, d) * (double) n;
            out.add(new LayerQuality(j, residual[j] / total, active[j] / n));
        }
        return out;
    }

    private static Weights export(boolean crossLayer, int layers, int f, int d, List<NDArray> enc,
                                  List<NDArray> encBias, List<NDArray> dec, List<NDArray> decBias) {
        List<float[]> encoder = new ArrayList<>();
        List<float[]> encoderBias = new ArrayList<>();
        List<float[]> decoder = new ArrayList<>();
        List<float[]> decoderBias = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            encoder.add(enc.get(l).transpose().toFloatArray()); // [d, F] → [F, d]
            encoderBias.add(encBias.get(l).toFloatArray());
            decoder.add(dec.get(l).toFloatArray()); // [F, outputs · d] is [F, outputs, d]
            decoderBias.add(decBias.get(l).toFloatArray());
        }
        return new Weights(crossLayer, layers, f, d, encoder, encoderBias, decoder, decoderBias);
    }

    private static float[] gather(float[] values, int[] rows, int d) {
        float[] out = new float[rows.length * d];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(values, rows[i] * d, out, i * d, d);
        }
        return out;
    }

    private static float[] gaussian(Random random, int n, float std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextGaussian() * std);
        }
        return v;
    }

    static float[] columnMean(float[] values, int rows, int d) {
        double[] sum = new double[d];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < d; k++) {
                sum[k] += values[r * d + k];
            }
        }
        float[] mean = new float[d];
        for (int k = 0; k < d; k++) {
            mean[k] = (float) (sum[k] / rows);
        }
        return mean;
    }

    /** Mean over rows of the squared distance to {@code mean}. */
    static float meanSquaredDeviation(float[] values, float[] mean, int rows, int d) {
        double s = 0;
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < d; k++) {
                double e = values[r * d + k] - mean[k];
                s += e * e;
            }
        }
        return (float) (s / rows);
    }
}
