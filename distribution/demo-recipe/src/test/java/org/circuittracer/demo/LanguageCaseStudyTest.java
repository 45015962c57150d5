package org.circuittracer.demo;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import org.circuittracer.attribution.intervention.Intervention;
import org.circuittracer.attribution.intervention.InterventionOptions;
import org.circuittracer.attribution.intervention.Interventions;
import org.circuittracer.attribution.intervention.SteeredGeneration;
import org.circuittracer.attribution.replacement.ReplacementActivations;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.demo.corpus.DemoCorpus;
import org.circuittracer.demo.corpus.World.Language;
import org.circuittracer.demo.corpus.World;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.model.Positions;
import org.circuittracer.spi.model.Sampling;
import org.circuittracer.spi.model.TokenSequence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The multilingual case study on the committed demo artifacts: a Spanish prompt continues in Spanish; ablating the
 * features whose dashboards are Spanish (× −2 at every position after BOS, generated ones included) makes the model
 * continue in English: the English sport name, English words, and no Spanish or French word.
 */
class LanguageCaseStudyTest {

    private static final int NEW_TOKENS = 8;
    private static DemoFixture demo;

    @BeforeAll
    static void open() {
        demo = DemoFixture.open();
    }

    @AfterAll
    static void close() {
        demo.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"Jordan", "Messi", "Federer", "Woods", "Gretzky"})
    void ablatingSpanishFeaturesSwitchesTheContinuationToEnglish(String lastName) {
        ReplacementModel replacement = demo.perLayer();
        World.Athlete athlete = World.athlete(lastName);
        TokenSequence tokens = replacement.tokenize(DemoCorpus.sportPrompt(athlete, Language.SPANISH));
        Set<String> spanish = DemoCorpus.languageOnlyWords(Language.SPANISH);
        Set<String> english = DemoCorpus.languageOnlyWords(Language.ENGLISH);

        List<Intervention> ablation = new ArrayList<>();
        Set<String> ablated = new LinkedHashSet<>();
        try (NDManager manager = NDManager.newBaseManager()) {
            ReplacementActivations clean = replacement.activations(manager, tokens);
            for (SparseActivations layer : clean.features()) {
                for (int i = 0; i < layer.size(); i++) {
                    int feature = layer.featureAt(i);
                    if (demo.topics().isInLanguage(layer.layer(), feature, spanish)
                            && ablated.add(layer.layer() + "/" + feature)) {
                        ablation.add(Intervention.scale(layer.layer(), Positions.from(1), feature, -2));
                    }
                }
            }
            System.out.println("Spanish features ablated (" + ablated.size() + "): " + ablated);
            assertThat(ablation).as("active features whose dashboards are Spanish").isNotEmpty();

            SteeredGeneration run = Interventions.generate(manager, replacement, tokens, ablation,
                    InterventionOptions.free(), NEW_TOKENS, Sampling.greedy());
            String before = run.unsteered().continuation();
            String after = run.steered().continuation();
            System.out.println("unsteered: " + before);
            System.out.println("steered:   " + after);

            assertThat(firstWord(before)).isEqualTo(athlete.sport().name(Language.SPANISH));
            assertThat(count(before, spanish)).as("Spanish words in the unsteered continuation")
                    .isGreaterThan(count(before, english));
            Set<String> french = DemoCorpus.languageOnlyWords(Language.FRENCH);
            assertThat(words(after)).as("the steered continuation: " + after)
                    .contains(athlete.sport().name(Language.ENGLISH))
                    .anyMatch(english::contains)
                    .noneMatch(spanish::contains)
                    .noneMatch(french::contains);
        }
    }

    private static List<String> words(String text) {
        return DemoCorpus.WORDS.matcher(text).results().map(r -> r.group()).toList();
    }

    private static String firstWord(String text) {
        Matcher m = DemoCorpus.WORDS.matcher(text);
        return m.find() ? m.group() : "";
    }

    private static int count(String text, Set<String> words) {
        Matcher m = DemoCorpus.WORDS.matcher(text);
        int n = 0;
        while (m.find()) {
            n += words.contains(m.group()) ? 1 : 0;
        }
        return n;
    }
}
