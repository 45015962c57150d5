package org.circuittracer.chat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.circuittracer.spi.model.Tokenizer;

/**
 * A small tokenizer for tests: the given special strings, runs of letters and digits, and every other character on
 * its own. With {@code spaceJoinsWord} a space is glued to the word after it (as GPT-2's "Ġword"), so a text split
 * between the space and the word tokenises differently than in one piece. Ids are handed out on first sight.
 */
final class PieceTokenizer implements Tokenizer {

    private final List<String> specials;
    private final boolean spaceJoinsWord;
    private final Map<String, Integer> vocabulary = new LinkedHashMap<>();

    PieceTokenizer(List<String> specials, boolean spaceJoinsWord) {
        this.specials = specials.stream().sorted(Comparator.comparingInt(String::length).reversed()).toList();
        this.spaceJoinsWord = spaceJoinsWord;
        specials.forEach(this::id);
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        return tokenStrings(text).stream().mapToInt(this::id).toArray();
    }

    @Override
    public List<String> tokenStrings(String text) {
        List<String> pieces = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            int end = specialAt(text, i);
            if (end < 0) {
                end = i + 1;
                boolean glued = spaceJoinsWord && text.charAt(i) == ' ' && end < text.length()
                        && Character.isLetterOrDigit(text.charAt(end));
                if (glued || Character.isLetterOrDigit(text.charAt(i))) {
                    while (end < text.length() && Character.isLetterOrDigit(text.charAt(end))) {
                        end++;
                    }
                }
            }
            pieces.add(text.substring(i, end));
            i = end;
        }
        return pieces;
    }

    private int specialAt(String text, int at) {
        for (String special : specials) {
            if (text.startsWith(special, at)) {
                return at + special.length();
            }
        }
        return -1;
    }

    private int id(String piece) {
        return vocabulary.computeIfAbsent(piece, p -> vocabulary.size());
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        StringBuilder text = new StringBuilder();
        for (int id : ids) {
            if (!(skipSpecialTokens && id < specials.size())) {
                text.append(tokenText(id));
            }
        }
        return text.toString();
    }

    @Override
    public String tokenText(int id) {
        return new ArrayList<>(vocabulary.keySet()).get(id);
    }

    @Override
    public int vocabularySize() {
        return vocabulary.size();
    }

    @Override
    public Set<Integer> specialTokenIds() {
        Set<Integer> ids = new HashSet<>();
        specials.forEach(s -> ids.add(vocabulary.get(s)));
        return ids;
    }

    @Override
    public OptionalInt bosTokenId() {
        return OptionalInt.empty();
    }

    @Override
    public OptionalInt eosTokenId() {
        return OptionalInt.empty();
    }

    @Override
    public OptionalInt padTokenId() {
        return OptionalInt.empty();
    }
}
