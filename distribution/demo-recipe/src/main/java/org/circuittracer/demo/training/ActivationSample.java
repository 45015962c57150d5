package org.circuittracer.demo.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import org.circuittracer.spi.model.ForwardResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;

/**
 * MLP inputs and outputs of every layer over a set of sequences, as the backend computes them (so transcoders are
 * trained on exactly what attribution will feed them). Position 0 (BOS) is left out, as the transcoders zero it.
 *
 * @param inputs  per layer, {@code [N · d]} row-major
 * @param outputs per layer, {@code [N · d]} row-major
 * @param rows    N, the number of token positions
 * @param width   d
 */
public record ActivationSample(List<float[]> inputs, List<float[]> outputs, int rows, int width) {

    /** Runs the model over {@code sequences} capturing {@code input}/{@code output} sites of every layer. */
    public static ActivationSample collect(TransformerModel model, List<int[]> sequences, SiteKind input,
                                           SiteKind output, IntConsumer progress) {
        int layers = model.config().layers();
        int d = model.config().modelWidth();
        int rows = sequences.stream().mapToInt(s -> s.length - 1).sum();
        List<float[]> in = new ArrayList<>();
        List<float[]> out = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            in.add(new float[rows * d]);
            out.add(new float[rows * d]);
        }
        List<Hook> hooks = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            hooks.add(new Hook.Capture(HookSite.of(input, l)));
            hooks.add(new Hook.Capture(HookSite.of(output, l)));
        }
        int row = 0;
        int done = 0;
        for (int[] seq : sequences) {
            try (NDManager manager = NDManager.newBaseManager()) {
                ForwardResult r = model.forward(manager, TokenSequence.of(seq), hooks);
                for (int l = 0; l < layers; l++) {
                    copyWithoutBos(r.capturedAt(HookSite.of(input, l)), in.get(l), row, d);
                    copyWithoutBos(r.capturedAt(HookSite.of(output, l)), out.get(l), row, d);
                }
            }
            row += seq.length - 1;
            progress.accept(++done);
        }
        return new ActivationSample(in, out, rows, d);
    }

    private static void copyWithoutBos(NDArray site, float[] into, int row, int d) {
        float[] values = site.toFloatArray();
        System.arraycopy(values, d, into, row * d, values.length - d);
    }
}
