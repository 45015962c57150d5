package org.circuittracer.runtime;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Provider;
import org.circuittracer.spi.Recognition;
import org.circuittracer.spi.SourceRecognizer;
import org.circuittracer.spi.StandardErrorCode;

/**
 * Auto-detection: which installed provider opens a directory when the user names none. Every provider of the kind is
 * asked ({@link SourceRecognizer#recognize}); the most sure one is chosen. When several are equally sure, a preferred
 * provider among them (a kind's default, e.g. the default backend) wins and the choice is explained; otherwise the
 * user is asked to choose, with every provider's reason.
 *
 * @param <P> the provider type
 */
public final class ProviderChoice<P extends Provider & SourceRecognizer> {

    /** The chosen provider, what it said, and a note worth showing the user (the others that could open it), if any. */
    public record Chosen<P>(P provider, Recognition recognition, Optional<String> note) {
    }

    /** One provider's answer. */
    public record Answer<P>(P provider, Recognition recognition) {
    }

    private final ProviderKind<P> kind;
    private final String option;
    private final Optional<String> preferred;

    /**
     * @param kind      the extension point (for messages)
     * @param option    the command-line option that chooses by name, e.g. {@code --dictionary-format}
     * @param preferred the provider that wins a tie among the most sure, if it is one of them
     */
    public ProviderChoice(ProviderKind<P> kind, String option, Optional<String> preferred) {
        this.kind = kind;
        this.option = option;
        this.preferred = preferred;
    }

    /** Every provider's answer for {@code directory}, most sure first (then by name). */
    public List<Answer<P>> answers(List<P> providers, Path directory) {
        List<Answer<P>> answers = new ArrayList<>();
        for (P p : providers) {
            answers.add(new Answer<>(p, ask(p, directory)));
        }
        answers.sort(Comparator.<Answer<P>, Recognition.Confidence>comparing(a -> a.recognition().confidence())
                .reversed().thenComparing(a -> a.provider().name()));
        return answers;
    }

    /**
     * The provider for {@code directory}.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT when none recognises it, or several are equally sure and none is
     *         preferred; the message lists every provider's reason and the option that chooses one
     */
    public Chosen<P> choose(List<P> providers, Path directory) {
        if (providers.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "No " + kind.label()
                    + " is installed to open " + directory + ". 'circuit-tracer plugins' lists the installed "
                    + "providers.");
        }
        List<Answer<P>> answers = answers(providers, directory);
        Recognition.Confidence best = answers.get(0).recognition().confidence();
        if (best == Recognition.Confidence.NONE) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "No " + kind.label()
                    + " recognises " + directory + ": " + reasons(answers) + ". Check the directory, or choose one with "
                    + option + " NAME.");
        }
        List<Answer<P>> top = answers.stream().filter(a -> a.recognition().confidence() == best).toList();
        List<Answer<P>> others = answers.stream().filter(a -> a.recognition().matches() && !top.contains(a)).toList();
        if (top.size() == 1) {
            Answer<P> chosen = top.get(0);
            Optional<String> note = others.isEmpty() ? Optional.empty()
                    : Optional.of("chose " + kind.label() + " '" + chosen.provider().name() + "' for " + directory
                    + " (" + chosen.recognition().reason() + "); " + names(others) + " could open it too ("
                    + option + " NAME chooses another)");
            return new Chosen<>(chosen.provider(), chosen.recognition(), note);
        }
        Optional<Answer<P>> preferredAnswer = top.stream()
                .filter(a -> preferred.isPresent() && a.provider().name().equals(preferred.get())).findFirst();
        if (preferredAnswer.isPresent()) {
            Answer<P> chosen = preferredAnswer.get();
            return new Chosen<>(chosen.provider(), chosen.recognition(), Optional.of("chose " + kind.label() + " '"
                    + chosen.provider().name() + "' for " + directory + ", the default; " + names(top) + " are "
                    + "equally sure (" + option + " NAME chooses another)"));
        }
        throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Several " + kind.label() + "s recognise "
                + directory + " equally: " + reasons(top) + ". Choose one with " + option + " NAME.");
    }

    private static Recognition ask(SourceRecognizer provider, Path directory) {
        try {
            Recognition r = provider.recognize(directory);
            return r != null ? r : Recognition.none("its recognize() returned nothing");
        } catch (RuntimeException e) {
            // a plugin whose check fails cannot open the directory; say why rather than fail the whole choice
            return Recognition.none("its check failed: " + e);
        }
    }

    private static <P extends Provider> String names(List<Answer<P>> answers) {
        return answers.stream().map(a -> a.provider().name()).collect(Collectors.joining(" and "));
    }

    private static <P extends Provider> String reasons(List<Answer<P>> answers) {
        return answers.stream().map(a -> a.provider().name() + " (" + a.recognition().confidence().name()
                .toLowerCase(java.util.Locale.ROOT) + ": " + a.recognition().reason() + ")")
                .collect(Collectors.joining("; "));
    }
}
