package org.circuittracer.demo.corpus;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The facts the demo corpus states. Every name is one word so that the word-level tokenizer gives each entity one
 * token, which keeps the circuits readable (the city position is one position).
 */
public final class World {

    /** A state, its capital and some of its other cities. */
    public record State(String name, String capital, List<String> cities) {
        public State {
            cities = List.copyOf(cities);
        }
    }

    /** An athlete (first and last name) and the sport they play. */
    public record Athlete(String first, String last, Sport sport) {
        public String fullName() {
            return first + " " + last;
        }
    }

    /** A sport's name in each corpus language; the article before it is part of the template. */
    public enum Sport {
        BASKETBALL("basketball", "baloncesto", "basket"),
        SOCCER("soccer", "fútbol", "football"),
        TENNIS("tennis", "tenis", "tennis"),
        BASEBALL("baseball", "béisbol", "baseball"),
        GOLF("golf", "golf", "golf"),
        HOCKEY("hockey", "hockey", "hockey");

        private final Map<Language, String> names;

        Sport(String english, String spanish, String french) {
            this.names = Map.of(Language.ENGLISH, english, Language.SPANISH, spanish, Language.FRENCH, french);
        }

        public String name(Language language) {
            return names.get(language);
        }
    }

    /** The languages of the athlete documents. */
    public enum Language { ENGLISH, SPANISH, FRENCH }

    public static final List<State> STATES = List.of(
            new State("Texas", "Austin", List.of("Dallas", "Houston", "Waco", "Plano")),
            new State("California", "Sacramento", List.of("Oakland", "Fresno", "Pasadena", "Anaheim")),
            new State("Illinois", "Springfield", List.of("Chicago", "Peoria", "Naperville")),
            new State("Georgia", "Atlanta", List.of("Savannah", "Macon", "Augusta")),
            new State("Washington", "Olympia", List.of("Seattle", "Tacoma", "Spokane")),
            new State("Florida", "Tallahassee", List.of("Miami", "Orlando", "Tampa")),
            new State("Ohio", "Columbus", List.of("Cleveland", "Cincinnati", "Toledo")),
            new State("Arizona", "Phoenix", List.of("Tucson", "Mesa", "Flagstaff")),
            new State("Colorado", "Denver", List.of("Boulder", "Aurora", "Pueblo")),
            new State("Oregon", "Salem", List.of("Portland", "Eugene", "Bend")),
            new State("Michigan", "Lansing", List.of("Detroit", "Flint", "Kalamazoo")),
            new State("Pennsylvania", "Harrisburg", List.of("Philadelphia", "Pittsburgh", "Erie")),
            new State("Massachusetts", "Boston", List.of("Worcester", "Cambridge", "Lowell")),
            new State("Tennessee", "Nashville", List.of("Memphis", "Knoxville", "Chattanooga")),
            new State("Wisconsin", "Madison", List.of("Milwaukee", "Kenosha", "Racine")),
            new State("Virginia", "Richmond", List.of("Norfolk", "Roanoke", "Arlington")));

    public static final List<Athlete> ATHLETES = List.of(
            new Athlete("Michael", "Jordan", Sport.BASKETBALL),
            new Athlete("LeBron", "James", Sport.BASKETBALL),
            new Athlete("Kobe", "Bryant", Sport.BASKETBALL),
            new Athlete("Stephen", "Curry", Sport.BASKETBALL),
            new Athlete("Serena", "Williams", Sport.TENNIS),
            new Athlete("Roger", "Federer", Sport.TENNIS),
            new Athlete("Rafael", "Nadal", Sport.TENNIS),
            new Athlete("Novak", "Djokovic", Sport.TENNIS),
            new Athlete("Lionel", "Messi", Sport.SOCCER),
            new Athlete("Cristiano", "Ronaldo", Sport.SOCCER),
            new Athlete("Kylian", "Mbappe", Sport.SOCCER),
            new Athlete("Tiger", "Woods", Sport.GOLF),
            new Athlete("Phil", "Mickelson", Sport.GOLF),
            new Athlete("Babe", "Ruth", Sport.BASEBALL),
            new Athlete("Derek", "Jeter", Sport.BASEBALL),
            new Athlete("Shohei", "Ohtani", Sport.BASEBALL),
            new Athlete("Wayne", "Gretzky", Sport.HOCKEY),
            new Athlete("Sidney", "Crosby", Sport.HOCKEY));

    /** Names for the indirect-object sentences (none is an athlete's first name). */
    public static final List<String> PEOPLE = List.of("Mary", "John", "Alice", "Bob", "Sarah", "David", "Emma", "Tom",
            "Laura", "Peter", "Anna", "Mark");
    public static final List<String> PLACES = List.of("store", "park", "school", "office", "beach", "library");
    public static final List<String> OBJECTS = List.of("drink", "book", "ball", "letter", "gift", "pen");

    /** Singular and plural nouns for the agreement sentences. */
    public static final List<List<String>> NOUNS = List.of(List.of("key", "keys"), List.of("dog", "dogs"),
            List.of("teacher", "teachers"), List.of("car", "cars"), List.of("book", "books"),
            List.of("friend", "friends"));
    public static final List<String> ADJECTIVES = List.of("old", "new", "small", "red", "quiet", "happy");

    private World() {
    }

    /** The state a city is in (capitals included). */
    public static Optional<State> stateOf(String city) {
        return STATES.stream().filter(s -> s.cities().contains(city) || s.capital().equals(city)).findFirst();
    }

    public static State state(String name) {
        return STATES.stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no state " + name));
    }

    public static Athlete athlete(String lastName) {
        return ATHLETES.stream().filter(a -> a.last().equals(lastName)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no athlete " + lastName));
    }
}
