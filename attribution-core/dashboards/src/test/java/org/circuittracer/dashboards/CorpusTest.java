package org.circuittracer.dashboards;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Corpus files, the splitting of documents into sequences, listeners and the errors of bad corpora. */
class CorpusTest {

    @Test
    void textAndJsonlFilesAreStreamedWithBlankLinesSkipped(@TempDir Path dir) throws IOException {
        Path text = Files.writeString(dir.resolve("corpus.txt"), "the cat sat\n\n  \nwas on the\n");
        assertThat(Corpus.Format.of(text)).isEqualTo(Corpus.Format.TEXT);
        try (Stream<CorpusDocument> docs = Corpus.read(text).documents()) {
            assertThat(docs.toList()).containsExactly(new CorpusDocument.Text("the cat sat"),
                    new CorpusDocument.Text("was on the"));
        }
        assertThat(Corpus.read(text).size()).isEqualTo(2);
        Path jsonl = Files.writeString(dir.resolve("corpus.jsonl"), "{\"text\": \"the man\"}\n{\"tokens\": [0, 5, 7]}\n"
                + "{\"input_ids\": [9]}\n\"a word\"\n[3, 4]\n");
        try (Stream<CorpusDocument> docs = Corpus.read(jsonl).documents()) {
            assertThat(docs.toList()).containsExactly(new CorpusDocument.Text("the man"),
                    new CorpusDocument.Tokens(new int[] {0, 5, 7}), new CorpusDocument.Tokens(new int[] {9}),
                    new CorpusDocument.Text("a word"), new CorpusDocument.Tokens(new int[] {3, 4}));
        }
    }

    @Test
    void malformedLinesAndMissingFilesNameTheProblem(@TempDir Path dir) throws IOException {
        Path jsonl = Files.writeString(dir.resolve("bad.jsonl"), "{\"text\": \"ok\"}\n\n{\"tokens\": [1, -2]}\n");
        assertThatThrownBy(() -> {
            try (Stream<CorpusDocument> docs = Corpus.read(jsonl).documents()) {
                docs.toList();
            }
        }).isInstanceOfSatisfying(CircuitTracerException.class, e -> {
            assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE);
            assertThat(e.getMessage()).contains("Line 3").contains("bad.jsonl").contains("-2");
        });
        Path other = Files.writeString(dir.resolve("other.jsonl"), "{\"title\": 1}\n");
        assertThatThrownBy(() -> Corpus.read(other).size()).hasMessageContaining("Line 1")
                .hasMessageContaining("\"text\"");
        Path notJson = Files.writeString(dir.resolve("x.ndjson"), "the cat\n");
        assertThatThrownBy(() -> Corpus.read(notJson).size()).hasMessageContaining("is not JSON");
        Path latin1 = Files.write(dir.resolve("latin1.txt"), new byte[] {'o', 'k', '\n', (byte) 0xE9, '\n'});
        assertThatThrownBy(() -> Corpus.read(latin1).size()).hasMessageContaining("latin1.txt is not valid UTF-8");
        assertThatThrownBy(() -> Corpus.read(dir.resolve("absent.txt")))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.FILE_NOT_FOUND));
    }

    @Test
    void longDocumentsAreSplitIntoChunksThatEachStartWithTheSpecialToken() {
        try (TransformerModel model = TinyFixtures.openModel("llama");
             SparseDictionary dictionary = TinyFixtures.openDictionary("llama-plt-relu")) {
            SequenceChunker chunker = new SequenceChunker(ReplacementModel.of(model, dictionary), 5);
            int[] body = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
            List<TokenSequence> chunks = chunker.chunks(new CorpusDocument.Tokens(body), 1);
            assertThat(chunks).extracting(TokenSequence::length).containsExactly(5, 5, 4);
            List<Integer> rejoined = new ArrayList<>();
            for (TokenSequence c : chunks) {
                assertThat(c.get(0)).isZero();
                for (int p = 1; p < c.length(); p++) {
                    rejoined.add(c.get(p));
                }
            }
            assertThat(rejoined).containsExactly(3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);
            assertThat(chunker.chunks(new CorpusDocument.Text("the cat"), 2).get(0).ids())
                    .containsExactly(0, model.tokenizer().encode("the", false)[0],
                            model.tokenizer().encode("cat", false)[0]);
            assertThat(chunker.chunks(new CorpusDocument.Text(""), 3)).isEmpty();
            assertThatThrownBy(() -> chunker.chunks(new CorpusDocument.Tokens(new int[] {0, 5, 9999}), 4))
                    .isInstanceOfSatisfying(CircuitTracerException.class, e -> {
                        assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT);
                        assertThat(e.getMessage()).startsWith("Document 4 of the corpus").contains("9999");
                    });
        }
    }

    @Test
    void textsAreTokenisedListenersHearEveryPhaseAndCancellationStops() {
        try (TransformerModel model = TinyFixtures.openModel("llama");
             SparseDictionary dictionary = TinyFixtures.openDictionary("llama-clt-relu")) {
            List<String> events = new ArrayList<>();
            DashboardListener listener = new DashboardListener() {
                @Override
                public void phaseStarted(DashboardPhase phase, long totalSteps) {
                    events.add(phase + " " + totalSteps);
                }

                @Override
                public void progress(DashboardPhase phase, long done, long totalSteps, long tokens) {
                    events.add(phase + " " + done + "/" + totalSteps);
                }
            };
            CollectedDashboards d = FeatureDashboards.collect(model, dictionary, Corpus.ofTexts(List.of(
                    "the man was on the water", "she said that it was a good day", "they went back")),
                    DashboardOptions.defaults().withBatchSize(2), listener);
            assertThat(d.documents()).isEqualTo(3);
            assertThat(d.tokens()).isEqualTo(6 + 8 + 3);
            assertThat(events).containsExactly("CORPUS 3", "CORPUS 2/3", "CORPUS 3/3", "OUTPUT_TOKENS 4",
                    "OUTPUT_TOKENS 1/4", "OUTPUT_TOKENS 2/4", "OUTPUT_TOKENS 3/4", "OUTPUT_TOKENS 4/4");
            FeatureDashboard any = java.util.stream.IntStream.range(0, 64).mapToObj(f -> d.dashboard(3, f))
                    .flatMap(java.util.Optional::stream).findFirst().orElseThrow();
            assertThat(any.topLogits()).hasSize(10);
            assertThat(any.transcoderId()).isEqualTo(dictionary.scan());

            DashboardListener cancelling = new DashboardListener() {
                @Override
                public boolean isCancelled() {
                    return true;
                }
            };
            assertThatThrownBy(() -> FeatureDashboards.collect(model, dictionary, Corpus.ofTexts(List.of("the man")),
                    DashboardOptions.defaults(), cancelling)).isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.CANCELLED));
            assertThatThrownBy(() -> FeatureDashboards.collect(model, dictionary, Corpus.ofTexts(List.of("", " ")),
                    DashboardOptions.defaults(), DashboardListener.NONE))
                    .isInstanceOfSatisfying(CircuitTracerException.class, e -> {
                        assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT);
                        assertThat(e.getMessage()).contains("no tokens");
                    });
            assertThatThrownBy(() -> DashboardOptions.defaults().withTopExamples(0))
                    .hasMessageContaining("topExamples must be at least 1");
        }
    }
}
