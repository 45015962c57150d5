package org.circuittracer.dashboards;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.model.TokenSequence;

/**
 * Turns a document into model inputs: the attribution rule for the leading special token
 * ({@link ReplacementModel#prepare}), then chunks of at most {@code maxLength} tokens; every chunk after the first gets
 * its own leading special token, so each chunk is a sequence the model sees from its start.
 */
final class SequenceChunker {

    private final ReplacementModel model;
    private final int maxLength;
    private final int vocabulary;

    SequenceChunker(ReplacementModel model, int maxLength) {
        this.model = model;
        this.maxLength = maxLength;
        this.vocabulary = model.model().config().vocabularySize();
    }

    /** The sequences of a document (none for an empty text); errors name the document (1-based). */
    List<TokenSequence> chunks(CorpusDocument document, long documentNumber) {
        try {
            TokenSequence prepared;
            if (document instanceof CorpusDocument.Text t) {
                int[] ids = model.model().tokenizer().encode(t.text(), false);
                if (ids.length == 0) {
                    return List.of();
                }
                prepared = model.prepare(new TokenSequence(ids));
            } else {
                prepared = model.prepare(new TokenSequence(((CorpusDocument.Tokens) document).ids()));
            }
            prepared.requireInVocabulary(vocabulary);
            int[] ids = prepared.ids();
            List<TokenSequence> out = new ArrayList<>();
            out.add(new TokenSequence(Arrays.copyOf(ids, Math.min(ids.length, maxLength))));
            for (int start = maxLength; start < ids.length; start += maxLength - 1) {
                int[] body = Arrays.copyOfRange(ids, start, Math.min(ids.length, start + maxLength - 1));
                out.add(model.prepare(new TokenSequence(body))); // at most maxLength with the prepended token
            }
            return out;
        } catch (CircuitTracerException e) {
            throw new CircuitTracerException(e.errorCode(), "Document " + documentNumber + " of the corpus: "
                    + e.getMessage(), e);
        }
    }
}
