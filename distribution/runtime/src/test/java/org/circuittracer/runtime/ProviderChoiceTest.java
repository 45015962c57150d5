package org.circuittracer.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Recognition;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.junit.jupiter.api.Test;

class ProviderChoiceTest {

    private static final Path DIR = Path.of("/data/transcoders");

    private static final ProviderChoice<DictionaryFormatProvider> CHOICE =
            new ProviderChoice<>(ProviderKind.DICTIONARY_FORMAT, "--dictionary-format", Optional.of("pref"));

    /** A format that answers what it is told. */
    private record Format(String name, Function<Path, Recognition> answer) implements DictionaryFormatProvider {
        @Override
        public String description() {
            return "test format " + name;
        }

        @Override
        public Recognition recognize(Path directory) {
            return answer.apply(directory);
        }

        @Override
        public SparseDictionary create(DictionarySource source) {
            throw new UnsupportedOperationException();
        }
    }

    private static Format format(String name, Recognition answer) {
        return new Format(name, d -> answer);
    }

    @Test
    void theMostSureProviderWinsAndTheOthersAreNamed() {
        var chosen = CHOICE.choose(List.of(format("a", Recognition.possible("config.json")),
                format("b", Recognition.certain("manifest says b")), format("c", Recognition.none("no files"))), DIR);
        assertThat(chosen.provider().name()).isEqualTo("b");
        assertThat(chosen.recognition().reason()).isEqualTo("manifest says b");
        assertThat(chosen.note()).hasValueSatisfying(n -> assertThat(n).contains("'b'").contains("a could open it")
                .doesNotContain("c could").contains("--dictionary-format"));
    }

    @Test
    void aSoleMatchNeedsNoNote() {
        var chosen = CHOICE.choose(List.of(format("a", Recognition.likely("cfg.json")),
                format("b", Recognition.none("no manifest"))), DIR);
        assertThat(chosen.provider().name()).isEqualTo("a");
        assertThat(chosen.note()).isEmpty();
    }

    @Test
    void nothingRecognisingSaysEveryReason() {
        assertThatThrownBy(() -> CHOICE.choose(List.of(format("a", Recognition.none("no config.yaml")),
                format("b", Recognition.none("no dictionary.json"))), DIR))
                .isInstanceOf(CircuitTracerException.class)
                .hasMessageContaining("No dictionary format recognises /data/transcoders")
                .hasMessageContaining("a (none: no config.yaml)").hasMessageContaining("b (none: no dictionary.json)")
                .hasMessageContaining("--dictionary-format NAME");
    }

    @Test
    void aTieGoesToThePreferredProviderWithAnExplanation() {
        var chosen = CHOICE.choose(List.of(format("a", Recognition.likely("x")), format("pref",
                Recognition.likely("y"))), DIR);
        assertThat(chosen.provider().name()).isEqualTo("pref");
        assertThat(chosen.note()).hasValueSatisfying(n -> assertThat(n).contains("the default")
                .contains("equally sure"));
    }

    @Test
    void aTieWithoutThePreferredProviderAsksTheUser() {
        assertThatThrownBy(() -> CHOICE.choose(List.of(format("a", Recognition.certain("x")),
                format("b", Recognition.certain("y")), format("pref", Recognition.likely("z"))), DIR))
                .isInstanceOf(CircuitTracerException.class)
                .hasMessageContaining("equally").hasMessageContaining("a (certain: x)")
                .hasMessageContaining("b (certain: y)").hasMessageNotContaining("pref (");
    }

    @Test
    void aFailingOrSilentCheckCountsAsNoneWithItsReason() {
        Format throwing = new Format("boom", d -> {
            throw new IllegalStateException("disk on fire");
        });
        Format silent = new Format("silent", d -> null);
        var answers = CHOICE.answers(List.of(throwing, silent, format("ok", Recognition.possible("p"))), DIR);
        assertThat(answers).extracting(a -> a.provider().name()).containsExactly("ok", "boom", "silent");
        assertThat(answers.get(1).recognition().reason()).contains("disk on fire");
        assertThat(CHOICE.choose(List.of(throwing, silent, format("ok", Recognition.possible("p"))), DIR)
                .provider().name()).isEqualTo("ok");
    }

    @Test
    void noProviderInstalledIsAClearError() {
        assertThatThrownBy(() -> CHOICE.choose(List.of(), DIR)).isInstanceOf(CircuitTracerException.class)
                .hasMessageContaining("No dictionary format is installed");
    }

    @Test
    void aRecognitionNeedsAReason() {
        assertThatThrownBy(() -> Recognition.certain(" ")).isInstanceOf(CircuitTracerException.class);
    }
}
