package org.circuittracer.demo.training;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.circuittracer.demo.corpus.DemoCorpus.Document;
import org.circuittracer.demo.tokenizer.WordLevelVocabulary;

/** Documents as fixed-length training sequences: {@code BOS doc EOS}, padded. */
public final class Sequences {

    private Sequences() {
    }

    /** Every document as {@code length} ids; a document that does not fit is an error (the corpus caps lengths). */
    public static List<int[]> of(List<Document> documents, WordLevelVocabulary vocabulary, int length) {
        List<int[]> out = new ArrayList<>(documents.size());
        for (Document d : documents) {
            int[] ids = vocabulary.encode(d.text());
            if (ids.length + 2 > length) {
                throw new IllegalArgumentException("document of " + ids.length + " tokens does not fit in " + length
                        + ": " + d.text());
            }
            int[] seq = new int[length];
            Arrays.fill(seq, vocabulary.pad());
            seq[0] = vocabulary.bos();
            System.arraycopy(ids, 0, seq, 1, ids.length);
            seq[ids.length + 1] = vocabulary.eos();
            out.add(seq);
        }
        return out;
    }

    /** {@code BOS doc} without EOS or padding: what a model sees when reading the document. */
    public static int[] prompt(Document document, WordLevelVocabulary vocabulary) {
        int[] ids = vocabulary.encode(document.text());
        int[] seq = new int[ids.length + 1];
        seq[0] = vocabulary.bos();
        System.arraycopy(ids, 0, seq, 1, ids.length);
        return seq;
    }
}
