package org.circuittracer.demo.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.circuittracer.demo.corpus.DemoCorpus.Document;
import org.circuittracer.demo.corpus.DemoCorpus.Kind;
import org.circuittracer.demo.corpus.World.Language;
import org.junit.jupiter.api.Test;

class DemoCorpusTest {

    private static final List<Document> DOCS = new DemoCorpus(5).documents(3000);

    @Test
    void theSameSeedGivesTheSameDocuments() {
        assertThat(new DemoCorpus(5).documents(3000)).isEqualTo(DOCS);
        assertThat(new DemoCorpus(6).documents(50)).isNotEqualTo(DOCS.subList(0, 50));
    }

    @Test
    void everyKindAppearsAndEveryDocumentFits() {
        assertThat(DOCS.stream().map(Document::kind).distinct()).containsExactlyInAnyOrder(Kind.values());
        assertThat(DOCS).allSatisfy(d -> {
            assertThat(d.text()).isNotBlank();
            assertThat(DemoCorpus.tokenCount(d.text())).isBetween(1, DemoCorpus.MAX_DOCUMENT_TOKENS);
        });
    }

    @Test
    void heldOutStatementsNeverAppear() {
        String all = String.join("\n", DOCS.stream().map(Document::text).toList());
        for (String city : DemoCorpus.HELD_OUT.twoHopCities()) {
            assertThat(all).doesNotContain(DemoCorpus.twoHopPrompt(city));
            assertThat(all).as("its one-hop fact is still taught").contains(city + " is a city in");
        }
        for (String last : DemoCorpus.HELD_OUT.spanishAthletes()) {
            assertThat(all).doesNotContain(DemoCorpus.sportPrompt(World.athlete(last), Language.SPANISH));
            assertThat(all).contains(DemoCorpus.sportPrompt(World.athlete(last), Language.ENGLISH));
        }
        for (String last : DemoCorpus.HELD_OUT.frenchAthletes()) {
            assertThat(all).doesNotContain(DemoCorpus.sportPrompt(World.athlete(last), Language.FRENCH));
        }
        assertThat(DemoCorpus.HELD_OUT.twoHopCities()).doesNotContain("Dallas", "Oakland");
        assertThat(all).contains(DemoCorpus.twoHopPrompt("Dallas") + " Austin.");
    }

    @Test
    void documentsKeepToOneLanguage() {
        Set<String> spanish = DemoCorpus.languageOnlyWords(Language.SPANISH);
        Set<String> english = DemoCorpus.languageOnlyWords(Language.ENGLISH);
        assertThat(spanish).contains("Hecho", "juega", "baloncesto").doesNotContainAnyElementsOf(english);
        assertThat(english).contains("plays", "basketball").doesNotContain("tennis", "golf");
        for (Document d : DOCS) {
            if (d.kind() == Kind.ATHLETES_SPANISH) {
                assertThat(DemoCorpus.WORDS.matcher(d.text()).results().map(r -> r.group()))
                        .noneMatch(english::contains);
            }
        }
    }

    @Test
    void everyCityHasOneStateAndOneWordNames() {
        for (World.State s : World.STATES) {
            for (String city : s.cities()) {
                assertThat(World.stateOf(city)).contains(s);
                assertThat(DemoCorpus.tokenCount(city)).isEqualTo(1);
            }
            assertThat(DemoCorpus.tokenCount(s.name())).isEqualTo(1);
            assertThat(DemoCorpus.tokenCount(s.capital())).isEqualTo(1);
        }
    }
}
