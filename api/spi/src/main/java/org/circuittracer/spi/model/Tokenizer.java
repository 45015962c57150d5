package org.circuittracer.spi.model;

import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import org.osgi.annotation.versioning.ConsumerType;

/** A model's tokenizer. Implementations never truncate: a long text gives all its tokens. */
@ConsumerType
public interface Tokenizer {

    /** Token ids of {@code text}, with the tokenizer's special tokens (e.g. BOS) only if asked. */
    int[] encode(String text, boolean addSpecialTokens);

    /** The surface string of each token of {@code text} (same length as {@link #encode} without special tokens). */
    List<String> tokenStrings(String text);

    /** Text of the given ids; special tokens kept unless {@code skipSpecialTokens}. */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** Text of one token id, as the viewer shows it. */
    String tokenText(int id);

    /** The tokenizer's vocabulary size (may differ from the model's logit count). */
    int vocabularySize();

    /** Ids of all special tokens (BOS, EOS, PAD, ...). */
    Set<Integer> specialTokenIds();

    /** The beginning-of-sequence id; empty if the tokenizer has none. */
    OptionalInt bosTokenId();

    /** The end-of-sequence id; empty if the tokenizer has none. */
    OptionalInt eosTokenId();

    /** The padding id; empty if the tokenizer has none. */
    OptionalInt padTokenId();
}
