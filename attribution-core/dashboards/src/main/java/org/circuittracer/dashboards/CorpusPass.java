package org.circuittracer.dashboards;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.ForwardResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.site.HookSite;

/**
 * One streaming pass over the corpus: each sequence is run through the model (capturing the dictionary's read
 * sites), encoded sparsely layer by layer, and folded into the per-feature state. Nothing of a sequence survives its
 * processing except the windows copied into kept examples.
 */
final class CorpusPass {

    private final ReplacementModel model;
    private final SparseDictionary dictionary;
    private final DashboardOptions options;
    private final FeatureState[][] states;
    private final List<Hook> captures;
    private final CorpusSlice slice;

    long documents;
    long sequences;
    long tokens;

    // scratch for grouping one layer's sparse activations by feature
    private final int[] counts;
    private final int[] cursor;
    private int[] touched = new int[64];
    private int[] groupedPositions = new int[256];
    private float[] groupedValues = new float[256];

    /** A pass over the slice of a corpus that starts at {@code start} (sequences are numbered corpus-wide). */
    CorpusPass(ReplacementModel model, DashboardOptions options, CorpusSlice start) {
        this.model = model;
        this.slice = start;
        this.dictionary = model.dictionary();
        this.options = options;
        int layers = dictionary.layers();
        this.states = new FeatureState[layers][];
        int widest = 0;
        for (int l = 0; l < layers; l++) {
            states[l] = new FeatureState[dictionary.features(l)];
            widest = Math.max(widest, dictionary.features(l));
        }
        this.counts = new int[widest];
        this.cursor = new int[widest];
        this.captures = dictionary.readSites().stream().<Hook>map(Hook.Capture::new).toList();
    }

    FeatureState[][] states() {
        return states;
    }

    void run(Corpus corpus, DashboardListener listener) {
        long total = corpus.size();
        long start = System.nanoTime();
        listener.phaseStarted(DashboardPhase.CORPUS, Math.max(total, 0));
        SequenceChunker chunker = new SequenceChunker(model, options.maxSequenceLength());
        try (NDManager manager = NDManager.newBaseManager(); Stream<CorpusDocument> docs = corpus.documents()) {
            List<TokenSequence> batch = new ArrayList<>(options.batchSize());
            Iterator<CorpusDocument> it = docs.iterator();
            while (it.hasNext()) {
                batch.addAll(chunker.chunks(it.next(), slice.firstDocument() + ++documents));
                if (batch.size() >= options.batchSize()) {
                    process(manager, batch, listener, total);
                }
            }
            process(manager, batch, listener, total);
        }
        listener.phaseFinished(DashboardPhase.CORPUS, System.nanoTime() - start);
    }

    private void process(NDManager manager, List<TokenSequence> batch, DashboardListener listener, long total) {
        if (listener.isCancelled()) {
            throw new CircuitTracerException(StandardErrorCode.CANCELLED, "Feature dashboards cancelled after "
                    + documents + " documents.");
        }
        for (TokenSequence sequence : batch) {
            accept(manager, sequence);
        }
        batch.clear();
        listener.progress(DashboardPhase.CORPUS, documents, Math.max(total, 0), tokens);
    }

    private void accept(NDManager manager, TokenSequence sequence) {
        Set<Integer> zeroed = model.zeroedPositions(sequence);
        int firstCounted = zeroed.stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        int[] ids = sequence.ids();
        if (ids.length > firstCounted) {
            try (NDManager scope = manager.newSubManager()) {
                ForwardResult result = model.model().forward(scope, sequence, captures);
                List<HookSite> sites = dictionary.readSites();
                for (int layer = 0; layer < states.length; layer++) {
                    SparseActivations active = dictionary.encodeSparse(scope, layer, result.capturedAt(sites.get(layer)),
                            zeroed);
                    accept(layer, active, ids, firstCounted);
                }
            }
            tokens += ids.length - firstCounted;
        }
        sequences++;
    }

    /** Groups one layer's entries by feature (positions stay ascending) and folds each feature's run in. */
    private void accept(int layer, SparseActivations active, int[] ids, int firstCounted) {
        int n = active.size();
        if (groupedPositions.length < n) {
            groupedPositions = new int[n];
            groupedValues = new float[n];
        }
        int touchedCount = 0;
        for (int e = 0; e < n; e++) {
            if (active.positionAt(e) >= firstCounted && active.valueAt(e) != 0f) {
                int f = active.featureAt(e);
                if (counts[f]++ == 0) {
                    if (touchedCount == touched.length) {
                        touched = Arrays.copyOf(touched, 2 * touchedCount);
                    }
                    touched[touchedCount++] = f;
                }
            }
        }
        Arrays.sort(touched, 0, touchedCount);
        int offset = 0;
        for (int i = 0; i < touchedCount; i++) {
            int f = touched[i];
            cursor[f] = offset;
            offset += counts[f];
        }
        for (int e = 0; e < n; e++) {
            int p = active.positionAt(e);
            if (p >= firstCounted && active.valueAt(e) != 0f) {
                int slot = cursor[active.featureAt(e)]++;
                groupedPositions[slot] = p;
                groupedValues[slot] = active.valueAt(e);
            }
        }
        for (int i = 0; i < touchedCount; i++) {
            int f = touched[i];
            int to = cursor[f];
            int from = to - counts[f];
            counts[f] = 0;
            FeatureState state = states[layer][f];
            if (state == null) {
                state = states[layer][f] = new FeatureState(options);
            }
            fold(state, layer, f, ids, firstCounted, from, to);
        }
    }

    private void fold(FeatureState state, int layer, int feature, int[] ids, int firstCounted, int from, int to) {
        long seq = slice.firstSequence() + sequences;
        int peak = from;
        for (int j = from; j < to; j++) {
            int p = groupedPositions[j];
            float v = groupedValues[j];
            state.count++;
            state.min = Math.min(state.min, v);
            state.max = Math.max(state.max, v);
            if (v > groupedValues[peak]) {
                peak = j; // strictly larger: the first position wins ties
            }
            long priority = Priorities.of(layer, feature, seq, p);
            state.values.offer(priority, seq, p, v);
            BoundedHeap<ExampleCandidate> band = state.band;
            if (band != null && (!band.full() || Priorities.compare(priority, seq, p, band.worst().priority,
                    band.worst().sequence, band.worst().position) < 0)) {
                band.add(candidate(v, seq, p, priority, ids, firstCounted, from, to));
            }
        }
        float best = groupedValues[peak];
        if (!state.top.full() || Float.compare(best, state.top.worst().value) > 0) {
            state.top.add(candidate(best, seq, groupedPositions[peak], 0, ids, firstCounted, from, to));
        }
    }

    /** The window around {@code position}: context before and after, never reaching into the zeroed prefix. */
    private ExampleCandidate candidate(float value, long seq, int position, long priority, int[] ids, int firstCounted,
                                       int from, int to) {
        int start = Math.max(firstCounted, position - options.contextBefore());
        int end = Math.min(ids.length, position + options.contextAfter() + 1);
        float[] acts = new float[end - start];
        for (int j = from; j < to; j++) {
            int p = groupedPositions[j];
            if (p >= start && p < end) {
                acts[p - start] = groupedValues[j];
            }
        }
        return new ExampleCandidate(value, seq, position, priority, Arrays.copyOfRange(ids, start, end), acts,
                position - start);
    }
}
