package org.circuittracer.backend.onnx.hooks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.circuittracer.backend.onnx.graph.GraphSurgery.StepId;
import org.circuittracer.backend.onnx.graph.HookSignature;
import org.circuittracer.backend.onnx.sitemap.ResolvedSites;
import org.circuittracer.spi.Capability;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.transformer.hooks.HookChecks;
import org.circuittracer.transformer.hooks.SiteShapes;

/**
 * The hooks of one pass, checked before it runs and turned into what the hooked graph takes: its
 * {@link HookSignature} and the tensors fed to its hook inputs. A replace at the selected positions feeds a boolean
 * mask over the position axis and the values scattered into a full-size tensor; an add feeds the delta scattered into
 * zeros. Graph tensors carry a leading batch axis of 1.
 *
 * <p>Positions are absolute, resolved against the sequence length after the pass, and only those the pass computes
 * are touched, as in the djl backend: a generation step at position {@code t} applies a replace or add only where it
 * selects {@code t} (otherwise it feeds an empty mask or a zero delta, keeping the signature of the prompt pass).
 */
public final class HookFeeds implements AutoCloseable {

    private final HookSignature signature;
    private final Map<String, OnnxTensor> inputs;
    private final Map<HookSite, StepId> captures;

    private HookFeeds(HookSignature signature, Map<String, OnnxTensor> inputs, Map<HookSite, StepId> captures) {
        this.signature = signature;
        this.inputs = inputs;
        this.captures = captures;
    }

    /**
     * Validates and prepares hooks.
     *
     * @param model names the model in messages
     * @throws CircuitTracerException INVALID_ARGUMENT for an unknown site, bad positions or a misshaped tensor;
     *         MISSING_CAPABILITY for a {@link Hook.Transform}
     */
    public static HookFeeds prepare(List<Hook> hooks, List<HookSite> sites, SiteShapes shapes, OrtEnvironment env,
                                    Set<BackendCapability> capabilities, String model) {
        Map<HookSite, List<HookSignature.Step>> steps = new HashMap<>();
        Map<String, float[]> floats = new LinkedHashMap<>();
        Map<String, long[]> floatShapes = new HashMap<>();
        Map<String, boolean[]> masks = new LinkedHashMap<>();
        Map<String, long[]> maskShapes = new HashMap<>();
        Map<HookSite, StepId> captures = new LinkedHashMap<>();
        for (Hook hook : hooks) {
            HookSite site = hook.site();
            if (hook instanceof Hook.Transform) {
                Capability.require("backend", "onnx", capabilities, BackendCapability.FUNCTION_HOOKS,
                        "Hook.Transform at " + site + " (use Capture, Replace or Add)");
            }
            HookChecks.requireSite(site, sites, model);
            List<HookSignature.Step> list = steps.computeIfAbsent(site, s -> new ArrayList<>());
            int index = list.size();
            long[] full = shapes.of(site.kind());
            int axis = SiteShapes.positionAxis(site.kind());
            long[] graphShape = withBatch(full);
            if (hook instanceof Hook.Capture) {
                list.add(HookSignature.Step.CAPTURE);
                captures.put(site, new StepId(site, index));
            } else if (hook instanceof Hook.Replace r) {
                list.add(HookSignature.Step.REPLACE);
                int[] positions = HookChecks.positions(r.positions(), shapes, hook);
                boolean[] mask = new boolean[(int) full[axis]];
                float[] values = new float[(int) count(full)];
                if (positions.length > 0 || !shapes.incremental()) {
                    scatter(fit(r.values(), positions, full, axis, "values", hook), positions, full, axis, values);
                    for (int p : positions) {
                        mask[p] = true;
                    }
                }
                long[] maskShape = new long[graphShape.length];
                Arrays.fill(maskShape, 1);
                maskShape[axis + 1] = full[axis];
                masks.put(HookSignature.maskInput(site, index), mask);
                maskShapes.put(HookSignature.maskInput(site, index), maskShape);
                floats.put(HookSignature.valuesInput(site, index), values);
                floatShapes.put(HookSignature.valuesInput(site, index), graphShape);
            } else if (hook instanceof Hook.Add a) {
                list.add(HookSignature.Step.ADD);
                int[] positions = HookChecks.positions(a.positions(), shapes, hook);
                float[] delta = new float[(int) count(full)];
                if (positions.length > 0 || !shapes.incremental()) {
                    scatter(fit(a.delta(), positions, full, axis, "delta", hook), positions, full, axis, delta);
                }
                floats.put(HookSignature.deltaInput(site, index), delta);
                floatShapes.put(HookSignature.deltaInput(site, index), graphShape);
            }
        }
        List<HookSignature.SiteSteps> ordered = steps.keySet().stream().sorted(ResolvedSites.FORWARD_ORDER)
                .map(site -> new HookSignature.SiteSteps(site, steps.get(site))).toList();
        Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
        try {
            for (var e : floats.entrySet()) {
                inputs.put(e.getKey(), OnnxTensor.createTensor(env, FloatBuffer.wrap(e.getValue()),
                        floatShapes.get(e.getKey())));
            }
            for (var e : masks.entrySet()) {
                ByteBuffer bytes = ByteBuffer.allocateDirect(e.getValue().length);
                for (boolean b : e.getValue()) {
                    bytes.put((byte) (b ? 1 : 0));
                }
                bytes.rewind();
                inputs.put(e.getKey(), OnnxTensor.createTensor(env, bytes, maskShapes.get(e.getKey()),
                        OnnxJavaType.BOOL));
            }
        } catch (OrtException e) {
            inputs.values().forEach(OnnxTensor::close);
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Cannot create hook tensors: "
                    + e.getMessage(), e);
        }
        return new HookFeeds(new HookSignature(ordered), inputs, captures);
    }

    public HookSignature signature() {
        return signature;
    }

    /** The tensors for the hooked graph's extra inputs. */
    public Map<String, OnnxTensor> inputs() {
        return inputs;
    }

    /** The captured sites and the step whose value is returned (the last capture at a site wins). */
    public Map<HookSite, StepId> captures() {
        return captures;
    }

    @Override
    public void close() {
        inputs.values().forEach(OnnxTensor::close);
    }

    /** The graph shape: a batch axis of 1 in front. */
    public static long[] withBatch(long[] shape) {
        long[] graph = new long[shape.length + 1];
        graph[0] = 1;
        System.arraycopy(shape, 0, graph, 1, shape.length);
        return graph;
    }

    /** The hook's tensor broadcast to the selected part of the site, as floats; checks it fits. */
    private static float[] fit(NDArray tensor, int[] positions, long[] full, int axis, String what, Hook hook) {
        long[] target = full.clone();
        target[axis] = positions.length;
        HookChecks.requireBroadcasts(tensor.getShape().getShape(), target, positions.length == full[axis], what,
                hook);
        try (NDManager scratch = tensor.getManager().newSubManager()) {
            NDArray copy = tensor.toType(DataType.FLOAT32, true);
            copy.attach(scratch);
            return copy.broadcast(new Shape(target)).toFloatArray();
        }
    }

    /** Writes {@code selected} (the site restricted to {@code positions}) into {@code full} at those positions. */
    private static void scatter(float[] selected, int[] positions, long[] shape, int axis, float[] full) {
        long outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= shape[i];
        }
        long inner = 1;
        for (int i = axis + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        int n = positions.length;
        long length = shape[axis];
        for (long o = 0; o < outer; o++) {
            for (int j = 0; j < n; j++) {
                System.arraycopy(selected, (int) ((o * n + j) * inner), full,
                        (int) ((o * length + positions[j]) * inner), (int) inner);
            }
        }
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
