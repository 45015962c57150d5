package org.circuittracer.attribution.intervention;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.Positions;

/**
 * Validated interventions: for the prompt, per layer the (position, feature) entries with the intervention that wins
 * (the last one); for generated positions, per layer the open-ended interventions in list order.
 */
final class InterventionPlan {

    /** One (position, feature) entry of a layer and the intervention that decides its target. */
    record Entry(int position, int feature, Intervention intervention) {
    }

    private final List<List<Entry>> prompt;
    private final List<List<Intervention>> openEnded;

    private InterventionPlan(List<List<Entry>> prompt, List<List<Intervention>> openEnded) {
        this.prompt = prompt;
        this.openEnded = openEnded;
    }

    /**
     * Checks every intervention against the dictionary and the prompt length.
     *
     * @param generation whether generated positions follow (an open-ended slice may then start at or after the prompt's
     *                   end)
     * @throws CircuitTracerException INVALID_ARGUMENT for a layer outside the dictionary, a feature id outside the
     *         layer, or positions outside the prompt
     */
    static InterventionPlan of(List<Intervention> interventions, SparseDictionary dictionary, int length,
                               boolean generation) {
        int layers = dictionary.layers();
        List<Map<Long, Entry>> byLayer = new ArrayList<>();
        List<List<Intervention>> open = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            byLayer.add(new LinkedHashMap<>());
            open.add(new ArrayList<>());
        }
        for (int i = 0; i < interventions.size(); i++) {
            Intervention iv = interventions.get(i);
            String which = "Intervention " + i + " (" + iv + ")";
            if (iv.layer() < 0 || iv.layer() >= layers) {
                throw invalid(which + " names layer " + iv.layer() + ", but the dictionary '" + dictionary.scan()
                        + "' has layers 0 to " + (layers - 1) + ".");
            }
            int features = dictionary.features(iv.layer());
            if (iv.feature() < 0 || iv.feature() >= features) {
                throw invalid(which + " names feature " + iv.feature() + ", but layer " + iv.layer()
                        + " of the dictionary '" + dictionary.scan() + "' has features 0 to " + (features - 1) + ".");
            }
            for (int p : resolve(iv.positions(), length, generation, which)) {
                long key = ((long) p << 32) | iv.feature();
                Map<Long, Entry> entries = byLayer.get(iv.layer());
                entries.remove(key); // the last assignment wins, and keeps its place in order
                entries.put(key, new Entry(p, iv.feature(), iv));
            }
            if (iv.positions().openEnded()) {
                open.get(iv.layer()).add(iv);
            }
        }
        return new InterventionPlan(byLayer.stream().map(m -> List.copyOf(m.values())).toList(),
                open.stream().map(List::copyOf).toList());
    }

    /**
     * The prompt positions of a selection, stricter than Python slicing: explicit positions, a slice's start and its
     * stop must lie in the prompt (negative ones counting from its end), and the selection must not be empty, except
     * that in a generation an open-ended slice may start at or after the end of the prompt.
     */
    private static int[] resolve(Positions positions, int length, boolean generation, String which) {
        if (positions instanceof Positions.Slice s) {
            int start = s.start() < 0 ? s.start() + length : s.start();
            boolean lateStartAllowed = generation && s.openEnded() && start >= length;
            if (start < 0 || start >= length && !lateStartAllowed) {
                throw invalid(which + " starts at position " + s.start() + ", outside the prompt of " + length
                        + " tokens (valid: " + -length + " to " + (length - 1) + ")"
                        + (generation ? "; only an open-ended slice may start at a generated position." : "."));
            }
            if (s.stop().isPresent()) {
                int stop = s.stop().getAsInt();
                if (stop < -length || stop > length) {
                    throw invalid(which + " stops at position " + stop + ", outside the prompt of " + length
                            + " tokens (valid stops: " + -length + " to " + length + ").");
                }
            }
            int[] resolved = s.resolve(length);
            if (resolved.length == 0 && !lateStartAllowed) {
                throw invalid(which + " selects no position of the prompt of " + length + " tokens.");
            }
            return resolved;
        }
        try {
            return positions.resolve(length);
        } catch (CircuitTracerException e) {
            throw invalid(which + ": " + e.getMessage());
        }
    }

    /** The prompt entries of a layer, in first-assignment order. */
    List<Entry> promptEntries(int layer) {
        return prompt.get(layer);
    }

    /**
     * The entries of a generation pass computing positions {@code first … first + rows − 1} after the prompt: the
     * open-ended interventions resolved against the sequence length {@code first + rows}, last one winning.
     */
    List<Entry> generatedEntries(int layer, int first, int rows) {
        Map<Long, Entry> entries = new LinkedHashMap<>();
        for (Intervention iv : openEnded.get(layer)) {
            for (int p : iv.positions().resolve(first + rows)) {
                if (p >= first) {
                    long key = ((long) p << 32) | iv.feature();
                    entries.remove(key);
                    entries.put(key, new Entry(p, iv.feature(), iv));
                }
            }
        }
        return List.copyOf(entries.values());
    }

    boolean isEmpty() {
        return prompt.stream().allMatch(List::isEmpty) && openEnded.stream().allMatch(List::isEmpty);
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }
}
