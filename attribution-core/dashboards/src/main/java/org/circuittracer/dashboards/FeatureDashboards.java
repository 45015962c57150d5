package org.circuittracer.dashboards;

import java.util.BitSet;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.spi.Capability;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.Tokenizer;
import org.circuittracer.spi.model.TransformerModel;

/**
 * Feature dashboards over a corpus (docs/reference/graph-format.md §4): for every feature of every layer, the top-activating
 * contexts, examples from quantile bands, activation percentiles, histogram and density, and the top and bottom output
 * tokens.
 *
 * <p>How the corpus is read: each document is tokenised without special tokens (token-id documents are used as they
 * are), given the leading special token attribution uses ({@link ReplacementModel#prepare}), and split into chunks of
 * at most {@link DashboardOptions#maxSequenceLength()} tokens, each chunk after the first with its own special token.
 * Activations at the zeroed positions ({@link ReplacementModel#zeroedPositions}, the special token) are excluded
 * everywhere, as attribution zeroes them: they count neither as activations nor as tokens, and windows start after
 * them.
 *
 * <p>One pass, bounded memory: a sequence is run through the model, its sparse activations are folded into the
 * per-feature state and discarded; nothing of size {@code tokens × features} exists. Each feature keeps its
 * {@code topExamples} best sequence peaks (ties to the earlier sequence), a sample of band candidates and a sample of
 * activations, both chosen by a fixed hash of (layer, feature, sequence, position) so that the result depends on the
 * corpus only, not on the batch size.
 *
 * <p>Typical use (the {@code circuit-tracer features} command does the same):
 * <pre>{@code
 * CollectedDashboards dashboards = FeatureDashboards.collect(model, dictionary, Corpus.read(corpusFile),
 *         DashboardOptions.defaults(), DashboardListener.NONE);
 * DashboardWriter.write(dashboards, outputDir, DashboardLayout.PACKED, DashboardListener.NONE);
 * }</pre>
 */
public final class FeatureDashboards {

    private FeatureDashboards() {
    }

    /** {@link #collect(ReplacementModel, Corpus, DashboardOptions, DashboardListener)} for a model and dictionary. */
    public static CollectedDashboards collect(TransformerModel model, SparseDictionary dictionary, Corpus corpus,
                                              DashboardOptions options, DashboardListener listener) {
        return collect(ReplacementModel.of(model, dictionary), corpus, options, listener);
    }

    /**
     * Runs the corpus through the model and collects the dashboards of every feature.
     *
     * @throws CircuitTracerException MISSING_CAPABILITY when the backend lacks HOOKS, or UNEMBEDDING while
     *         {@code outputTokens > 0}; INVALID_ARGUMENT for a corpus without tokens or a document the tokenizer
     *         rejects; MALFORMED_FILE for a malformed corpus line; CANCELLED when the listener cancels
     */
    public static CollectedDashboards collect(ReplacementModel model, Corpus corpus, DashboardOptions options,
                                              DashboardListener listener) {
        return finish(model, collectPartial(model, corpus, CorpusSlice.START, options, listener), listener);
    }

    /**
     * One pass over a slice of a corpus (its documents, in corpus order, starting at {@code start}): the state that
     * {@link PartialDashboards#merge} combines with the other slices' and {@link #finish} turns into dashboards. The
     * parts of a corpus, however cut, merged in any order and finished, give exactly what {@link #collect} gives for
     * the whole, provided each slice's {@code start} counts the documents and sequences before it
     * ({@link #sequences}).
     *
     * @throws CircuitTracerException as {@link #collect}, but a slice without tokens is not an error
     */
    public static PartialDashboards collectPartial(ReplacementModel model, Corpus slice, CorpusSlice start,
                                                   DashboardOptions options, DashboardListener listener) {
        requireCapabilities(model.model(), options);
        CorpusPass pass = new CorpusPass(model, options, start);
        pass.run(slice, listener);
        return new PartialDashboards(options, pass.states(), pass.documents, pass.sequences, pass.tokens);
    }

    /**
     * The number of sequences the documents of {@code slice} are split into (tokenisation only, no model pass): what
     * the next slice's {@link CorpusSlice#firstSequence()} adds up.
     *
     * @throws CircuitTracerException as {@link #collect} for a malformed corpus or a document the tokenizer rejects
     */
    public static long sequences(ReplacementModel model, Corpus slice, CorpusSlice start, DashboardOptions options) {
        SequenceChunker chunker = new SequenceChunker(model, options.maxSequenceLength());
        long documents = start.firstDocument();
        long sequences = 0;
        try (java.util.stream.Stream<CorpusDocument> docs = slice.documents()) {
            java.util.Iterator<CorpusDocument> it = docs.iterator();
            while (it.hasNext()) {
                sequences += chunker.chunks(it.next(), ++documents).size();
            }
        }
        return sequences;
    }

    /**
     * The dashboards of a (merged) state: ranks the output tokens of the features that fired and decodes the tokens
     * shown. {@code model} must hold the dictionary the state was computed with.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT when the corpus had no tokens; INCOMPATIBLE_INPUTS when the
     *         dictionary does not match the state; CANCELLED when the listener cancels
     */
    public static CollectedDashboards finish(ReplacementModel model, PartialDashboards partial,
                                             DashboardListener listener) {
        TransformerModel m = model.model();
        SparseDictionary dictionary = model.dictionary();
        DashboardOptions options = partial.options();
        requireCapabilities(m, options);
        int[] widths = new int[dictionary.layers()];
        for (int l = 0; l < widths.length; l++) {
            widths[l] = dictionary.features(l);
        }
        if (!java.util.Arrays.equals(widths, partial.featuresPerLayer())) {
            throw new CircuitTracerException(StandardErrorCode.INCOMPATIBLE_INPUTS, "The partial dashboards were "
                    + "computed with another dictionary (features per layer " + java.util.Arrays.toString(
                    partial.featuresPerLayer()) + ", this one " + java.util.Arrays.toString(widths) + "). Finish them "
                    + "with the transcoders they were computed with.");
        }
        if (partial.tokens() == 0) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The corpus has no tokens besides "
                    + "special tokens (" + partial.documents() + " documents). Give at least one non-empty document.");
        }
        FeatureState[][] states = partial.states();
        OutputTokenRanking[][] rankings = new OutputTokenRanking[states.length][];
        if (options.outputTokens() > 0) {
            long start = System.nanoTime();
            listener.phaseStarted(DashboardPhase.OUTPUT_TOKENS, states.length);
            for (int layer = 0; layer < states.length; layer++) {
                if (listener.isCancelled()) {
                    throw new CircuitTracerException(StandardErrorCode.CANCELLED, "Feature dashboards cancelled "
                            + "while ranking output tokens.");
                }
                int[] live = liveFeatures(states[layer]);
                OutputTokenRanking[] ranked = OutputTokens.rank(m, dictionary, layer, live, options.outputTokens());
                rankings[layer] = new OutputTokenRanking[states[layer].length];
                for (int i = 0; i < live.length; i++) {
                    rankings[layer][live[i]] = ranked[i];
                }
                listener.progress(DashboardPhase.OUTPUT_TOKENS, layer + 1, states.length, 0);
            }
            listener.phaseFinished(DashboardPhase.OUTPUT_TOKENS, System.nanoTime() - start);
        }
        String scan = options.scan() != null ? options.scan() : dictionary.scan();
        String[] strings = tokenStrings(m.tokenizer(), m.config().vocabularySize(), states, rankings);
        return new CollectedDashboards(scan, m.config().modelName(), options, states, rankings, strings,
                joiner(m.tokenizer(), strings), partial.documents(), partial.sequences(), partial.tokens());
    }

    private static void requireCapabilities(TransformerModel m, DashboardOptions options) {
        Capability.require("backend", m.backendName(), m.capabilities(), BackendCapability.HOOKS,
                "feature dashboards");
        if (options.outputTokens() > 0) {
            Capability.require("backend", m.backendName(), m.capabilities(), BackendCapability.UNEMBEDDING,
                    "top and bottom output tokens of feature dashboards (set outputTokens to 0 to leave them out)");
        }
    }

    private static int[] liveFeatures(FeatureState[] layer) {
        return java.util.stream.IntStream.range(0, layer.length).filter(f -> layer[f] != null).toArray();
    }

    /** The decoded string of every token id the dashboards show (null for the others). */
    private static String[] tokenStrings(Tokenizer tokenizer, int vocabulary, FeatureState[][] states,
                                         OutputTokenRanking[][] rankings) {
        BitSet used = new BitSet(vocabulary);
        for (int l = 0; l < states.length; l++) {
            for (int f = 0; f < states[l].length; f++) {
                FeatureState s = states[l][f];
                if (s == null) {
                    continue;
                }
                s.top.elements().forEach(c -> markAll(used, c.tokenIds));
                if (s.band != null) {
                    s.band.elements().forEach(c -> markAll(used, c.tokenIds));
                }
                if (rankings[l] != null && rankings[l][f] != null) {
                    markAll(used, rankings[l][f].topIds());
                    markAll(used, rankings[l][f].bottomIds());
                }
            }
        }
        String[] strings = new String[vocabulary];
        used.stream().forEach(id -> strings[id] = tokenizer.tokenText(id));
        return strings;
    }

    /**
     * What goes between two decoded tokens of a context: {@code " "} for tokenizers that decode a sequence by joining
     * its tokens with spaces (word-level tokenizers without a decoder, whose single tokens carry no spacing), else
     * nothing (byte-level BPE and SentencePiece tokens carry their own spaces). Decided from up to eight pairs of
     * ordinary tokens, all of which must agree, so a tokenizer with sub-word pieces never gets spaces inserted.
     */
    static String joiner(Tokenizer tokenizer, String[] strings) {
        int[] ids = java.util.stream.IntStream.range(0, strings.length)
                .filter(id -> strings[id] != null && !strings[id].isBlank()
                        && !tokenizer.specialTokenIds().contains(id))
                .limit(9).toArray();
        if (ids.length < 2) {
            return "";
        }
        for (int i = 0; i + 1 < ids.length; i++) {
            String a = strings[ids[i]];
            String b = strings[ids[i + 1]];
            String joined = tokenizer.decode(new int[] {ids[i], ids[i + 1]}, false);
            if (!joined.equals(a + " " + b)) {
                return "";
            }
        }
        return " ";
    }

    private static void markAll(BitSet used, int[] ids) {
        for (int id : ids) {
            used.set(id);
        }
    }
}
