package org.circuittracer.testkit.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.junit.jupiter.api.Test;

class FuzzerTest {

    private static final List<String> SEEDS = List.of("{\"a\": 1, \"b\": [\"x\", 2.5], \"c\": {\"d\": true}}\n",
            "model_kind: transcoder_set\nlayers: 4\nname: x\n");

    @Test
    void casesAreDeterministicFromTheSeed() {
        Fuzzer a = Fuzzer.named("t").text().seedTexts(SEEDS).seed(7);
        Fuzzer b = Fuzzer.named("t").text().seedTexts(SEEDS).seed(7);
        for (int n = 0; n < 200; n++) {
            assertThat(a.input(n).bytes()).isEqualTo(b.input(n).bytes());
            assertThat(a.input(n).mutations()).isEqualTo(b.input(n).mutations());
        }
        long differing = java.util.stream.IntStream.range(0, 200)
                .filter(n -> !java.util.Arrays.equals(a.input(n).bytes(), SEEDS.get(0).getBytes(StandardCharsets.UTF_8))
                        && !java.util.Arrays.equals(a.input(n).bytes(), SEEDS.get(1).getBytes(StandardCharsets.UTF_8)))
                .count();
        assertThat(differing).isGreaterThan(150);
    }

    @Test
    void aParserThatHonoursTheContractPasses() {
        Fuzzer.Result r = Fuzzer.named("contract").text().seedTexts(SEEDS).cases(2_000).run((in, dir) -> {
            if (in.length % 3 == 0) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "bad");
            }
        });
        assertThat(r.cases()).isEqualTo(2_000);
        assertThat(r.loaded()).isPositive();
        assertThat(r.errorCodes()).containsKey(StandardErrorCode.MALFORMED_FILE.code());
    }

    @Test
    void anotherExceptionIsReportedWithSeedCaseAndDump() {
        assertThatThrownBy(() -> Fuzzer.named("npe").text().seedTexts(SEEDS).seed(3).cases(100).run((in, dir) -> {
            if (in.length > 0 && in[0] == '{') {
                throw new NullPointerException("boom");
            }
        })).isInstanceOf(AssertionError.class)
                .hasMessageContaining("fuzz npe: case ")
                .hasMessageContaining("seed 3")
                .hasMessageContaining("NullPointerException")
                .hasMessageContaining("-Dfuzz.seed=3 -Dfuzz.case=")
                .hasMessageContaining("hex:");
    }

    @Test
    void errorsBlankMessagesHangsAndWritesOutsideAreViolations() {
        assertThatThrownBy(() -> Fuzzer.named("oom").seedTexts(SEEDS).cases(10).run((in, dir) -> {
            throw new OutOfMemoryError("Java heap space");
        })).hasMessageContaining("OutOfMemoryError");
        assertThatThrownBy(() -> Fuzzer.named("blank").seedTexts(SEEDS).cases(10).run((in, dir) -> {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, " ");
        })).hasMessageContaining("blank message");
        assertThatThrownBy(() -> Fuzzer.named("hang").seedTexts(SEEDS).cases(10).timeLimit(Duration.ofMillis(200))
                .run((in, dir) -> Thread.sleep(5_000))).hasMessageContaining("a hang");
        assertThatThrownBy(() -> Fuzzer.named("escape").seedTexts(SEEDS).watchFiles().cases(10).run((in, dir) ->
                Files.write(dir.resolveSibling("outside.txt"), in))).hasMessageContaining("changed outside.txt");
        assertThatThrownBy(() -> Fuzzer.named("create").seedTexts(SEEDS).watchFiles().cases(10).run((in, dir) ->
                Files.write(dir.resolveSibling("new.txt"), in))).hasMessageContaining("created new.txt");
    }

    @Test
    void oneCaseCanBeRerunAlone() {
        System.setProperty("fuzz.case", "17");
        try {
            Fuzzer.Result r = Fuzzer.named("one").text().seedTexts(SEEDS).seed(5).run((in, dir) -> { });
            assertThat(r.cases()).isEqualTo(1);
            assertThat(r.reproduction()).isTrue();
            r.assertSomeRejected(); // checks nothing for a single case
            assertThatThrownBy(() -> Fuzzer.named("one").text().seedTexts(SEEDS).seed(5).run((in, dir) -> {
                if (java.util.Arrays.equals(in, Fuzzer.named("x").text().seedTexts(SEEDS).seed(5).input(17).bytes())) {
                    throw new IllegalStateException("case 17");
                }
            })).hasMessageContaining("case 17 (seed 5)");
        } finally {
            System.clearProperty("fuzz.case");
        }
    }

    @Test
    void sharesShortenOnlyQuickRunsAndTheBuildAndTheLongRunGiveEveryParserItsCount() {
        String before = System.getProperty("fuzz.cases");
        try {
            System.clearProperty("fuzz.cases");
            assertThat(Fuzzer.named("slow").seedTexts(SEEDS).share(0.1).caseCount()).isEqualTo(5_000);
            System.setProperty("fuzz.cases", "1000"); // a quick run
            assertThat(Fuzzer.named("slow").seedTexts(SEEDS).share(0.1).caseCount()).isEqualTo(100);
            System.setProperty("fuzz.cases", "100000"); // what -Pfuzz sets
            assertThat(Fuzzer.named("slow").seedTexts(SEEDS).share(0.1).caseCount()).isEqualTo(100_000);
            assertThat(Fuzzer.named("fast").seedTexts(SEEDS).caseCount()).isEqualTo(100_000);
        } finally {
            if (before == null) {
                System.clearProperty("fuzz.cases");
            } else {
                System.setProperty("fuzz.cases", before);
            }
        }
    }

    @Test
    void dumpShowsTextAndHex() {
        String d = Dump.of("abcdefgh\u0001\n".getBytes(StandardCharsets.UTF_8), 100);
        assertThat(d).contains("text:").contains("\\x01").contains("00000000  61 62 63 64");
    }
}
