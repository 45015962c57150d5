package org.circuittracer.chat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.circuittracer.chat.jinja.PythonStrings;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.Tokenizer;

/**
 * Tells the template's tokens from the messages' tokens. The template is rendered a second time with each message's
 * content replaced by a placeholder that no template can confuse with its own text; the text between placeholders is
 * the template's. The real rendering must then be exactly those template pieces around the contents (each content
 * as given or stripped, as templates that {@code trim} do), and the pieces, tokenised one by one, must give exactly the
 * tokens of the whole text. Anything else (a template that rewrites or repeats contents, a token spanning a boundary)
 * marks nothing and says why: marks are never guessed.
 */
final class TemplatePositions {

    private static final char OPEN = '\uE000';
    private static final char CLOSE = '\uE001';

    private TemplatePositions() {
    }

    /**
     * The prompt of {@code messages}.
     *
     * @param render renders a conversation with the same template and options as {@code text} was rendered
     */
    static ChatPrompt of(String text, List<ChatMessage> messages, Function<List<ChatMessage>, String> render,
            Tokenizer tokenizer) {
        TokenSequence ids = new TokenSequence(tokenizer.encode(text, false));
        Alignment alignment = align(text, messages, render);
        if (alignment.problem != null) {
            return unmarked(text, ids, alignment.problem);
        }
        Set<Integer> positions = new TreeSet<>();
        List<Integer> pieced = new ArrayList<>();
        for (int i = 0; i < alignment.pieces.size(); i++) {
            boolean template = i % 2 == 0;
            for (int id : tokenizer.encode(alignment.pieces.get(i), false)) {
                if (template) {
                    positions.add(pieced.size());
                }
                pieced.add(id);
            }
        }
        if (!Arrays.equals(pieced.stream().mapToInt(Integer::intValue).toArray(), ids.ids())) {
            return unmarked(text, ids, "the tokens of the message contents do not line up with the template's "
                    + "(a token spans a boundary between a message and the template)");
        }
        return new ChatPrompt(text, ids, positions, Optional.empty());
    }

    private static ChatPrompt unmarked(String text, TokenSequence ids, String why) {
        return new ChatPrompt(text, ids, Set.of(), Optional.of("No token positions are marked as template: " + why
                + "."));
    }

    /** The text as alternating pieces, template first: template, content, template, ..., template; or a problem. */
    private record Alignment(List<String> pieces, String problem) {
    }

    private static Alignment align(String text, List<ChatMessage> messages,
            Function<List<ChatMessage>, String> render) {
        List<ChatMessage> placeholders = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            if (m.content().indexOf(OPEN) >= 0 || m.content().indexOf(CLOSE) >= 0) {
                return problem("message " + (i + 1) + " contains the private-use characters used to find contents");
            }
            placeholders.add(new ChatMessage(m.role(), placeholder(i)));
        }
        String rendered;
        try {
            rendered = render.apply(placeholders);
        } catch (CircuitTracerException e) {
            return problem("the template refuses placeholder contents (" + e.getMessage() + ")");
        }
        List<String> template = templatePieces(rendered, messages.size());
        if (template == null) {
            return problem("the template does not write each message's content exactly once, in order");
        }
        List<String> pieces = new ArrayList<>();
        int at = 0;
        for (int i = 0; i < messages.size(); i++) {
            String before = template.get(i);
            String after = template.get(i + 1);
            if (!text.startsWith(before, at)) {
                return problem("the template writes different text around message " + (i + 1) + " than around a "
                        + "placeholder (it depends on the content)");
            }
            at += before.length();
            String content = content(text, at, messages.get(i).content(), after);
            if (content == null) {
                return problem("message " + (i + 1) + " appears changed in the rendered prompt (only stripping is "
                        + "recognised)");
            }
            pieces.add(before);
            pieces.add(content);
            at += content.length();
        }
        String last = template.get(messages.size());
        if (!text.substring(at).equals(last)) {
            return problem("the rendered prompt ends differently than the template with placeholders");
        }
        pieces.add(last);
        return new Alignment(pieces, null);
    }

    /** The content as the template wrote it at {@code at}: as given or stripped; null when neither or both fit. */
    private static String content(String text, int at, String content, String after) {
        List<String> fits = new ArrayList<>();
        for (String candidate : List.of(content, PythonStrings.strip(content, null, true, true))) {
            if (!fits.contains(candidate) && text.startsWith(candidate + after, at)) {
                fits.add(candidate);
            }
        }
        return fits.size() == 1 ? fits.get(0) : null;
    }

    /** The text around the placeholders 0..count-1, in order, or null unless each appears exactly once, in order. */
    private static List<String> templatePieces(String rendered, int count) {
        List<String> pieces = new ArrayList<>();
        int at = 0;
        for (int i = 0; i < count; i++) {
            String placeholder = placeholder(i);
            int found = rendered.indexOf(placeholder, at);
            if (found < 0 || rendered.indexOf(placeholder, found + 1) >= 0) {
                return null;
            }
            pieces.add(rendered.substring(at, found));
            at = found + placeholder.length();
        }
        String rest = rendered.substring(at);
        if (rest.indexOf(OPEN) >= 0) {
            return null;
        }
        pieces.add(rest);
        return pieces;
    }

    private static String placeholder(int index) {
        return OPEN + Integer.toString(index) + CLOSE;
    }

    private static Alignment problem(String why) {
        return new Alignment(List.of(), why);
    }
}
