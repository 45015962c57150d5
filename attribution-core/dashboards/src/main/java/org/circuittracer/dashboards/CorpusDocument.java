package org.circuittracer.dashboards;

import java.util.Objects;

/** One document of a corpus: a text (tokenised by the model's tokenizer) or token ids (used as they are). */
public sealed interface CorpusDocument {

    /** A text; tokenised without special tokens, then split and prefixed as {@link FeatureDashboards} describes. */
    record Text(String text) implements CorpusDocument {
        public Text {
            Objects.requireNonNull(text, "text");
        }
    }

    /** Token ids; a special token is prepended when the first is not one. */
    record Tokens(int[] ids) implements CorpusDocument {
        public Tokens {
            ids = ids.clone();
        }

        @Override
        public int[] ids() {
            return ids.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tokens that && java.util.Arrays.equals(ids, that.ids);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(ids);
        }

        @Override
        public String toString() {
            return "Tokens" + java.util.Arrays.toString(ids);
        }
    }
}
