package org.circuittracer.transformer.hooks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.transformer.decoder.SiteHooks;

/**
 * The hooks of one forward pass, checked before the pass starts and grouped by site. At each site the hooks run in
 * list order: a capture records the value as it is at that point, a replace or add acts on the selected positions
 * (query rows for attention patterns), a transform replaces the whole value. Values are never changed in place: a
 * hook that changes something produces a new array.
 *
 * <p>Hook tensors are copied into the pass's scratch manager up front (the caller keeps ownership of its own);
 * captured values are float32 copies owned by the capture manager.
 *
 * <p>Positions are absolute. A pass described by {@link SiteShapes} computes rows {@code first … first + n − 1} of a
 * sequence of {@code first + n} tokens: a hook's {@link Positions} are resolved against that length (as a forward
 * pass over the whole prefix would resolve them) and only the resolved positions the pass computes are touched. For
 * a whole forward pass ({@code first = 0}) that is every resolved position; for a generation step at position
 * {@code t} it is {@code t} if the hook selects it, and a replace or add that selects nothing there is skipped.
 */
public final class HookPlan implements SiteHooks {

    private final Map<HookSite, List<Step>> stepsBySite = new HashMap<>();
    private final NDManager captureManager;
    private final Map<HookSite, NDArray> captured = new LinkedHashMap<>();

    private HookPlan(NDManager captureManager) {
        this.captureManager = captureManager;
    }

    /**
     * Validates and prepares hooks.
     *
     * @param sites   the sites the model has
     * @param scratch owns the prepared copies of hook tensors and the captures
     * @param model   names the model in error messages, e.g. {@code LlamaForCausalLM 'llama' (4 layers)}
     * @throws CircuitTracerException INVALID_ARGUMENT for an unknown site, positions outside the sequence or
     *         repeated, or a tensor that does not fit the selected part of the site
     */
    public static HookPlan prepare(List<Hook> hooks, List<HookSite> sites, SiteShapes shapes, NDManager scratch,
                                   String model) {
        HookPlan plan = new HookPlan(scratch);
        for (Hook hook : hooks) {
            HookSite site = hook.site();
            HookChecks.requireSite(site, sites, model);
            long[] full = shapes.of(site.kind());
            int axis = SiteShapes.positionAxis(site.kind());
            Step step;
            if (hook instanceof Hook.Replace r) {
                int[] positions = HookChecks.positions(r.positions(), shapes, hook);
                if (positions.length == 0 && shapes.incremental()) {
                    continue; // selects none of this step's positions
                }
                Selection selection = Selection.of(positions, full, axis, hook, scratch);
                step = new Replace(selection, selection.fit(r.values(), "values", hook, scratch));
            } else if (hook instanceof Hook.Add a) {
                int[] positions = HookChecks.positions(a.positions(), shapes, hook);
                if (positions.length == 0 && shapes.incremental()) {
                    continue;
                }
                Selection selection = Selection.of(positions, full, axis, hook, scratch);
                step = new Add(selection, selection.fit(a.delta(), "delta", hook, scratch));
            } else if (hook instanceof Hook.Transform t) {
                step = new Transform(t.function(), full, site);
            } else {
                step = value -> plan.capture(site, value);
            }
            plan.stepsBySite.computeIfAbsent(site, s -> new ArrayList<>()).add(step);
        }
        return plan;
    }

    /** The captured values by site (the last capture wins when a site is captured twice), in capture order. */
    public Map<HookSite, NDArray> captured() {
        return captured;
    }

    @Override
    public NDArray at(HookSite site, NDArray value) {
        NDArray current = value;
        for (Step step : stepsBySite.getOrDefault(site, List.of())) {
            current = step.apply(current);
        }
        return current;
    }

    private NDArray capture(HookSite site, NDArray value) {
        NDArray copy = value.toType(DataType.FLOAT32, true); // a copy: the caller may close it, the pass goes on
        copy.attach(captureManager);
        captured.put(site, copy);
        return value;
    }

    /** One prepared hook: the value it is given to the value the pass continues with. */
    private interface Step {
        NDArray apply(NDArray value);
    }

    private record Replace(Selection selection, NDArray values) implements Step {
        @Override
        public NDArray apply(NDArray value) {
            NDArray result = value.duplicate();
            result.set(selection.index(), values.toType(value.getDataType(), false).broadcast(selection.shape()));
            return result;
        }
    }

    private record Add(Selection selection, NDArray delta) implements Step {
        @Override
        public NDArray apply(NDArray value) {
            NDArray typed = delta.toType(value.getDataType(), false);
            if (selection.all()) {
                return value.add(typed);
            }
            NDArray result = value.duplicate();
            result.set(selection.index(), value.get(selection.index()).add(typed));
            return result;
        }
    }

    private record Transform(UnaryOperator<NDArray> function, long[] shape, HookSite site) implements Step {
        @Override
        public NDArray apply(NDArray value) {
            NDArray result = function.apply(value);
            if (result == null || !Arrays.equals(result.getShape().getShape(), shape)) {
                throw HookChecks.invalid("The Hook.Transform at " + site + " returned " + (result == null ? "null"
                        : "shape " + Arrays.toString(result.getShape().getShape()))
                        + "; it must return the site's shape " + Arrays.toString(shape) + ".");
            }
            if (result.getManager() != value.getManager()) {
                // an array the function made elsewhere: copy it, so the caller may close theirs
                NDArray copy = result.duplicate();
                copy.attach(value.getManager());
                result = copy;
            }
            return result.toType(value.getDataType(), false);
        }
    }

    /**
     * The selected positions of a site.
     *
     * @param index the NDIndex that selects them
     * @param shape the site's shape restricted to them
     * @param all   whether every position is selected, in order
     */
    private record Selection(NDIndex index, Shape shape, boolean all) {

        static Selection of(int[] positions, long[] full, int axis, Hook hook, NDManager scratch) {
            long[] selected = full.clone();
            selected[axis] = positions.length;
            String leading = axis == 0 ? "" : ":, ";
            boolean all = Arrays.equals(positions, IntStream.range(0, (int) full[axis]).toArray());
            NDIndex index = all ? new NDIndex(leading + ":")
                    : new NDIndex(leading + "{}", scratch.create(IntStream.of(positions).asLongStream().toArray()));
            return new Selection(index, new Shape(selected), all);
        }

        /** A float32 copy of {@code tensor} in {@code scratch}, after checking it broadcasts to the selection. */
        NDArray fit(NDArray tensor, String what, Hook hook, NDManager scratch) {
            HookChecks.requireBroadcasts(tensor.getShape().getShape(), shape.getShape(), all, what, hook);
            NDArray copy = tensor.toType(DataType.FLOAT32, true);
            copy.attach(scratch);
            return copy;
        }
    }
}
