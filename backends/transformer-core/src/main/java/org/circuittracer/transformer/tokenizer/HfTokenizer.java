package org.circuittracer.transformer.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.Tokenizer;
import org.circuittracer.transformer.DjlOffline;

/**
 * A Hugging Face {@code tokenizer.json} run by DJL's native tokenizers library. Never truncates or pads (DJL's
 * default truncates to 512 tokens) and adds special tokens only when asked.
 *
 * <p>Special tokens as {@link SpecialTokens} reads them. Thread-safe; {@link #close()} releases the native
 * tokenizer.
 */
public final class HfTokenizer implements Tokenizer, AutoCloseable {

    /** The tokenizer file of a model directory. */
    public static final String FILE = "tokenizer.json";

    // the native library's defaults truncate to 512 tokens and pad; a tokenizer for attribution must do neither
    private static final Map<String, String> OPTIONS =
            Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "false");

    private final HuggingFaceTokenizer tokenizer;
    private final int vocabularySize;
    private final SpecialTokens special;

    private HfTokenizer(HuggingFaceTokenizer tokenizer, int vocabularySize, SpecialTokens special) {
        this.tokenizer = tokenizer;
        this.vocabularySize = vocabularySize;
        this.special = special;
    }

    /**
     * Opens the tokenizer of a model directory.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND without {@code tokenizer.json}, MALFORMED_FILE if a file cannot
     *         be read
     */
    public static HfTokenizer open(Path directory) {
        Path file = directory.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "There is no " + FILE + " in "
                    + directory + "; the backend needs a Hugging Face fast-tokenizer file to turn text into tokens "
                    + "(token ids can still be given directly).");
        }
        TokenizerJson json = TokenizerJson.read(file);
        DjlOffline.prefer();
        HuggingFaceTokenizer library;
        try {
            library = json.nullUnkToken()
                    ? HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(TokenizerJson.withoutNullUnkToken(file)),
                            OPTIONS)
                    : HuggingFaceTokenizer.newInstance(file, OPTIONS);
        } catch (IOException | RuntimeException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " cannot be loaded by the "
                    + "tokenizers library: " + e.getMessage(), e);
        }
        try {
            return new HfTokenizer(library, json.vocabularySize(), SpecialTokens.read(directory, json,
                    text -> library.encode(text, false, false).getIds()));
        } catch (RuntimeException e) {
            library.close();
            throw e;
        }
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        return toInts(encoding(text, addSpecialTokens).getIds());
    }

    @Override
    public List<String> tokenStrings(String text) {
        Encoding encoding = encoding(text, false);
        String[] tokens = encoding.getTokens();
        CharSpan[] spans = encoding.getCharTokenSpans();
        List<String> out = new ArrayList<>(tokens.length);
        for (int i = 0; i < tokens.length; i++) {
            CharSpan span = spans == null || i >= spans.length ? null : spans[i];
            out.add(span == null ? tokens[i] : substringByCodePoints(text, span.getStart(), span.getEnd()));
        }
        return List.copyOf(out);
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        return tokenizer.decode(Arrays.stream(ids).asLongStream().toArray(), skipSpecialTokens);
    }

    @Override
    public String tokenText(int id) {
        return decode(new int[] {id}, false);
    }

    @Override
    public int vocabularySize() {
        return vocabularySize;
    }

    @Override
    public Set<Integer> specialTokenIds() {
        return special.all();
    }

    @Override
    public OptionalInt bosTokenId() {
        return special.bos();
    }

    @Override
    public OptionalInt eosTokenId() {
        return special.eos();
    }

    @Override
    public OptionalInt padTokenId() {
        return special.pad();
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    private Encoding encoding(String text, boolean addSpecialTokens) {
        try {
            return tokenizer.encode(text, addSpecialTokens, false);
        } catch (RuntimeException e) {
            // e.g. a word-level vocabulary without an unknown token meets an unknown word
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The text cannot be tokenised: "
                    + e.getMessage() + ". Give token ids instead, or text in the tokenizer's vocabulary.", e);
        }
    }

    /** The tokenizers library reports offsets in Unicode characters; Java strings index UTF-16 units. */
    private static String substringByCodePoints(String text, int start, int end) {
        int length = text.codePointCount(0, text.length());
        int from = Math.min(start, length);
        int to = Math.max(from, Math.min(end, length));
        return text.substring(text.offsetByCodePoints(0, from), text.offsetByCodePoints(0, to));
    }

    private static int[] toInts(long[] ids) {
        return Arrays.stream(ids).mapToInt(Math::toIntExact).toArray();
    }
}
