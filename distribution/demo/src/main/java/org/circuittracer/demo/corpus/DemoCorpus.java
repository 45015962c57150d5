package org.circuittracer.demo.corpus;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.circuittracer.demo.corpus.World.Athlete;
import org.circuittracer.demo.corpus.World.Language;
import org.circuittracer.demo.corpus.World.State;

/**
 * A deterministic synthetic corpus whose circuits are known in advance: two-hop facts (city → state → capital),
 * athletes and their sports in English, Spanish and French, subject-verb agreement and indirect objects.
 *
 * <p>Each document is one kind and one language, so the language of a context is a property the model has to carry
 * from the first sentence to the last. Two-hop statements are held out for one city per state, and the
 * sport statement of some athletes in one language, so that generalisation can be measured (see {@link #HELD_OUT}).
 */
public final class DemoCorpus {

    /** Words and punctuation runs, the way the tokenizer's {@code Whitespace} pre-tokenizer splits text. */
    public static final Pattern WORDS = Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);

    /** The kinds of documents. */
    public enum Kind { FACTS, ATHLETES_ENGLISH, ATHLETES_SPANISH, ATHLETES_FRENCH, AGREEMENT, INDIRECT_OBJECT }

    /** One document: its kind and text (sentences separated by single spaces). */
    public record Document(Kind kind, String text) {
    }

    /** Statements never generated, kept for generalisation checks. */
    public record HeldOut(List<String> twoHopCities, List<String> spanishAthletes, List<String> frenchAthletes) {
    }

    /** Cities whose two-hop statement is held out (never Dallas or Oakland, the case-study cities). */
    public static final HeldOut HELD_OUT = new HeldOut(
            World.STATES.stream().map(s -> s.cities().get(s.cities().size() - 1)).toList(),
            List.of("Mbappe", "Ohtani"), List.of("Curry", "Crosby"));

    /** The largest number of tokens a document may have, the BOS token not counted. */
    public static final int MAX_DOCUMENT_TOKENS = 63;

    private final Random random;

    public DemoCorpus(long seed) {
        this.random = new Random(seed);
    }

    /** {@code count} documents; the same seed always gives the same documents. */
    public List<Document> documents(int count) {
        List<Document> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(document());
        }
        return out;
    }

    /** Every sentence template instantiated once per entity, for building the vocabulary. */
    public static List<String> allSentences() {
        List<String> out = new ArrayList<>();
        for (State s : World.STATES) {
            out.add(capital(s));
            out.add(capitalIs(s));
            for (String city : s.cities()) {
                out.add(cityIn(city, s));
                out.add(cityState(city, s));
                out.add(twoHop(city, s));
                out.add(address(city, s));
                out.add("We drove from " + city + " " + s.name() + " to " + city + " " + s.name() + ".");
            }
        }
        for (Athlete a : World.ATHLETES) {
            for (Language l : Language.values()) {
                out.add(plays(a, l));
                out.add(famous(a, l));
            }
        }
        for (Language l : Language.values()) {
            out.addAll(FILLERS.get(l.ordinal()));
        }
        for (List<String> noun : World.NOUNS) {
            for (String n : noun) {
                out.add("The " + n + " of the " + n + " is " + World.ADJECTIVES.get(0) + ".");
            }
        }
        out.add("The key of the dog are " + String.join(" ", World.ADJECTIVES) + ".");
        for (String p : World.PEOPLE) {
            out.add("When " + p + " and " + p + " went to the " + String.join(" ", World.PLACES) + ", " + p
                    + " gave a " + String.join(" ", World.OBJECTS) + " to " + p + ".");
        }
        return out;
    }

    /** The number of tokens the tokenizer makes of {@code text} (no special tokens). */
    public static int tokenCount(String text) {
        Matcher m = WORDS.matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    // --- templates -----------------------------------------------------------------------------------------------

    public static String twoHopPrompt(String city) {
        return "Fact: the capital of the state containing " + city + " is";
    }

    public static String sportPrompt(Athlete a, Language language) {
        return switch (language) {
            case ENGLISH -> "Fact: " + a.fullName() + " plays the sport of";
            case SPANISH -> "Hecho: " + a.fullName() + " juega al";
            case FRENCH -> "Fait: " + a.fullName() + " joue au";
        };
    }

    static String twoHop(String city, State s) {
        return twoHopPrompt(city) + " " + s.capital() + ".";
    }

    static String cityIn(String city, State s) {
        return city + " is a city in " + s.name() + ".";
    }

    static String cityState(String city, State s) {
        return "Fact: " + city + " is in the state of " + s.name() + ".";
    }

    /** The state right after the city, so that the city's own position has to know its state. */
    static String address(String city, State s) {
        return "Address: " + city + " " + s.name() + ".";
    }

    static String capital(State s) {
        return "The capital of " + s.name() + " is " + s.capital() + ".";
    }

    static String capitalIs(State s) {
        return s.capital() + " is the capital of " + s.name() + ".";
    }

    static String plays(Athlete a, Language l) {
        return sportPrompt(a, l) + " " + a.sport().name(l) + ".";
    }

    static String famous(Athlete a, Language l) {
        String sport = a.sport().name(l);
        return switch (l) {
            case ENGLISH -> a.fullName() + " is a famous " + sport + " player.";
            case SPANISH -> a.fullName() + " es un famoso jugador de " + sport + ".";
            case FRENCH -> a.fullName() + " est un célèbre joueur de " + sport + ".";
        };
    }

    private static final List<List<String>> FILLERS = List.of(
            List.of("The game was exciting.", "Fans love the team.", "The season starts soon."),
            List.of("El partido fue emocionante.", "Los aficionados aman al equipo.", "La temporada empieza pronto."),
            List.of("Le match était passionnant.", "Les fans aiment le club.", "La saison commence bientôt."));

    // --- documents -----------------------------------------------------------------------------------------------

    private Document document() {
        double u = random.nextDouble();
        // English is the corpus's default language, as it is for most models: athlete documents are English twice
        // as often as Spanish or French ones
        if (u < 0.32) {
            return fill(Kind.FACTS, this::factSentence);
        } else if (u < 0.56) {
            return fill(Kind.ATHLETES_ENGLISH, () -> athleteSentence(Language.ENGLISH));
        } else if (u < 0.68) {
            return fill(Kind.ATHLETES_SPANISH, () -> athleteSentence(Language.SPANISH));
        } else if (u < 0.80) {
            return fill(Kind.ATHLETES_FRENCH, () -> athleteSentence(Language.FRENCH));
        } else if (u < 0.90) {
            return fill(Kind.AGREEMENT, this::agreementSentence);
        }
        return fill(Kind.INDIRECT_OBJECT, this::indirectObjectSentence);
    }

    /** Sentences of one kind until the next would not fit. */
    private Document fill(Kind kind, Supplier<String> sentences) {
        StringBuilder text = new StringBuilder();
        int tokens = 0;
        int target = 2 + random.nextInt(5);
        for (int i = 0; i < target; i++) {
            String s = sentences.get();
            int n = tokenCount(s);
            if (tokens + n > MAX_DOCUMENT_TOKENS) {
                break;
            }
            text.append(text.isEmpty() ? "" : " ").append(s);
            tokens += n;
        }
        return new Document(kind, text.toString());
    }

    private String factSentence() {
        State s = pick(World.STATES);
        String city = pick(s.cities());
        int template = random.nextInt(12);
        if (template < 4) {
            // the two-hop statement, except for held-out cities, which get their one-hop fact instead
            return HELD_OUT.twoHopCities().contains(city) ? cityIn(city, s) : twoHop(city, s);
        }
        return switch (template) {
            case 4 -> cityIn(city, s);
            case 5 -> cityState(city, s);
            case 6, 7 -> address(city, s);
            case 8 -> trip(city, s, pick(World.STATES));
            case 9, 10 -> capital(s);
            default -> capitalIs(s);
        };
    }

    private String trip(String city, State s, State other) {
        return "We drove from " + city + " " + s.name() + " to " + pick(other.cities()) + " " + other.name() + ".";
    }

    private String athleteSentence(Language language) {
        if (random.nextInt(6) == 0) {
            return pick(FILLERS.get(language.ordinal()));
        }
        Athlete a = pick(World.ATHLETES);
        boolean heldOut = switch (language) {
            case SPANISH -> HELD_OUT.spanishAthletes().contains(a.last());
            case FRENCH -> HELD_OUT.frenchAthletes().contains(a.last());
            case ENGLISH -> false;
        };
        if (heldOut) {
            return pick(FILLERS.get(language.ordinal()));
        }
        return random.nextInt(3) < 2 ? plays(a, language) : famous(a, language);
    }

    private String agreementSentence() {
        List<String> subject = pick(World.NOUNS);
        List<String> object = pick(World.NOUNS);
        boolean plural = random.nextBoolean();
        return "The " + subject.get(plural ? 1 : 0) + " of the " + object.get(random.nextInt(2)) + " "
                + (plural ? "are" : "is") + " " + pick(World.ADJECTIVES) + ".";
    }

    private String indirectObjectSentence() {
        String a = pick(World.PEOPLE);
        String b;
        do {
            b = pick(World.PEOPLE);
        } while (b.equals(a));
        return "When " + a + " and " + b + " went to the " + pick(World.PLACES) + ", " + b + " gave a "
                + pick(World.OBJECTS) + " to " + a + ".";
    }

    private <T> T pick(List<T> items) {
        return items.get(random.nextInt(items.size()));
    }

    /** Words that appear only in documents of one language, for telling which language a continuation is in. */
    public static Set<String> languageOnlyWords(Language language) {
        List<Set<String>> perLanguage = new ArrayList<>();
        for (Language l : Language.values()) {
            Set<String> words = new java.util.TreeSet<>();
            for (Athlete a : World.ATHLETES) {
                words.addAll(words(plays(a, l)));
                words.addAll(words(famous(a, l)));
            }
            FILLERS.get(l.ordinal()).forEach(f -> words.addAll(words(f)));
            for (Athlete a : World.ATHLETES) {
                words.remove(a.first());
                words.remove(a.last());
            }
            perLanguage.add(words);
        }
        Set<String> own = new java.util.TreeSet<>(perLanguage.get(language.ordinal()));
        for (Language other : Language.values()) {
            if (other != language) {
                own.removeAll(perLanguage.get(other.ordinal()));
            }
        }
        return Set.copyOf(own);
    }

    private static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = WORDS.matcher(text);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }
}
