package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.circuittracer.testkit.SharedFixtures;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a user types, refused with exit code 2 and a message that names the option and says how to fix it, before
 * any heavy work (no attribution or generation starts; checks that need no model run before it is loaded). On the
 * tiny GPT-2 fixture: vocabulary 128, context 64 positions, 3 layers, transcoders of width 96.
 */
class UserInputValidationTest {

    private static final String IDS = "0,1,109,122,81,21";
    /** More token ids than the fixture's 64 positions. */
    private static final String TOO_MANY_IDS = IntStream.range(0, 80).mapToObj(i -> Integer.toString(1 + i % 100))
            .collect(Collectors.joining(","));

    /** A prompt of 60 tokens: 4 positions left of the fixture's 64. */
    private static final String SIXTY_IDS = IntStream.range(0, 60).mapToObj(i -> Integer.toString(i == 0 ? 0 : 1 + i))
            .collect(Collectors.joining(","));

    /**
     * @param name      what is wrong
     * @param model     whether the checks may load the model first (they need its vocabulary or context)
     * @param args      the command line (model and transcoders are added)
     * @param expected  fragments the message must hold: what is wrong and what to do
     */
    static Arguments input(String name, boolean model, List<String> args, String... expected) {
        return Arguments.of(name, model, args, List.of(expected));
    }

    static Stream<Arguments> inputs() {
        return Stream.of(
                input("empty prompt", false, List.of("attribute", "--prompt", ""), "--prompt", "empty"),
                input("blank prompt", false, List.of("attribute", "--prompt", "  \t "), "--prompt", "empty"),
                input("prompt of only a special token", true, List.of("attribute", "--prompt-ids", "0"),
                        "no token besides special ones", "--prompt-ids"),
                input("prompt that tokenizes to nothing", true, List.of("attribute", "--prompt", "zzqxv qqzzx"),
                        "tokenizes to no token", "--prompt-ids"),
                input("intervene with a prompt that tokenizes to nothing", true, List.of("intervene", "--prompt",
                        "zzqxv", "-i", "0:1:2=1"), "tokenizes to no token"),
                input("empty prompt ids", false, List.of("attribute", "--prompt-ids", ""), "--prompt-ids"),
                input("prompt longer than the context (ids)", true, List.of("attribute", "--prompt-ids", TOO_MANY_IDS),
                        "81 tokens", "64", "shorten"),
                input("prompt longer than the context (text)", true, List.of("attribute", "--prompt",
                        "the cat sat on the mat ".repeat(40)), "64", "shorten"),
                input("token id out of range", true, List.of("attribute", "--prompt-ids", "0,5,128"), "128",
                        "vocabulary"),
                input("token id above int range", false, List.of("attribute", "--prompt-ids", "0,99999999999"),
                        "--prompt-ids"),
                input("target of several tokens", true, List.of("attribute", "--prompt-ids", IDS, "--target",
                        "zzqxv qqzzx"), "zzqxv qqzzx"),
                input("target id out of range", true, List.of("attribute", "--prompt-ids", IDS, "--target", "#500"),
                        "outside the model's vocabulary"),
                input("node threshold above 1", false, List.of("attribute", "--prompt-ids", IDS, "--node-threshold",
                        "1.5"), "--node-threshold", "[0"),
                input("edge threshold below 0", false, List.of("attribute", "--prompt-ids", IDS, "--edge-threshold",
                        "-0.1"), "--edge-threshold"),
                input("node threshold not a number", false, List.of("attribute", "--prompt-ids", IDS,
                        "--node-threshold", "NaN"), "--node-threshold"),
                input("desired logit probability above 1", false, List.of("attribute", "--prompt-ids", IDS,
                        "--desired-logit-prob", "1.01"), "--desired-logit-prob"),
                input("negative batch size", false, List.of("attribute", "--prompt-ids", IDS, "--batch-size", "-8"),
                        "--batch-size", ">= 1"),
                input("zero batch size", false, List.of("attribute", "--prompt-ids", IDS, "--batch-size", "0"),
                        "--batch-size"),
                input("negative max feature nodes", false, List.of("attribute", "--prompt-ids", IDS,
                        "--max-feature-nodes", "-1"), "--max-feature-nodes"),
                input("intervention layer out of range", true, List.of("intervene", "--prompt-ids", IDS, "-i",
                        "7:1:2=1"), "layer 7"),
                input("intervention feature out of range", true, List.of("intervene", "--prompt-ids", IDS, "-i",
                        "0:1:5000=1"), "5000"),
                input("intervention negative feature", false, List.of("intervene", "--prompt-ids", IDS, "-i",
                        "0:1:-3=1"), "-3"),
                input("intervention position out of range", true, List.of("intervene", "--prompt-ids", IDS, "-i",
                        "0:40:1*0"), "Position 40"),
                input("intervene with an empty prompt", false, List.of("intervene", "--prompt", "", "-i", "0:1:2=1"),
                        "--prompt", "empty"),
                input("generate with a prompt longer than the context", true, List.of("generate", "--prompt-ids",
                        TOO_MANY_IDS, "-i", "0:1:2=1"), "64", "shorten"),
                input("generate past the context", true, List.of("generate", "--prompt-ids", SIXTY_IDS, "-i",
                        "0:1:2=1", "--max-new-tokens", "8"), "60 tokens", "lower --max-new-tokens to at most 4"),
                input("attributor setting the attributor does not take", false, List.of("attribute", "--prompt-ids",
                        IDS, "--attributor-option", "rank=3", "--attributor-option", "sketch=true"),
                        "exact attributor takes no settings", "[rank, sketch]"),
                input("bench with a setting the attributor does not take", false, List.of("bench", "--prompt-ids",
                        IDS, "--attributor-option", "rank=3"), "exact attributor takes no settings", "[rank]"),
                input("head loadings with no heads", false, List.of("attribute", "--prompt-ids", IDS,
                        "--head-loadings", "0"), "--head-loadings", "at least 1"),
                input("qk with no terms", false, List.of("attribute", "--prompt-ids", IDS, "--qk", "0"), "--qk",
                        "at least 1"),
                input("generate negative new tokens", false, List.of("generate", "--prompt-ids", IDS, "-i", "0:1:2=1",
                        "--max-new-tokens", "-1"), "--max-new-tokens"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("inputs")
    void isRefusedWithAMessageThatSaysHowToFixIt(String name, boolean model, List<String> args, List<String> expected,
                                                 @TempDir Path dir) {
        List<String> all = new ArrayList<>(args.subList(0, 1));
        all.addAll(List.of("--model", SharedFixtures.resolve("tiny-models/gpt2").toString(), "--transcoders",
                SharedFixtures.resolve("tiny-transcoders/gpt2-plt-relu").toString()));
        if (args.get(0).equals("attribute")) {
            all.addAll(List.of("--slug", "x", "--graph-file-dir", dir.toString()));
        }
        all.addAll(args.subList(1, args.size()));
        CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run(all.toArray(String[]::new));
        assertThat(r.exit()).as(name + ": " + r.err()).isEqualTo(2);
        assertThat(r.err()).as(name).contains(expected).doesNotContain("\tat ");
        // refused before heavy work: no attribution or generation phase ran, and the model was not even loaded
        // when the check needs nothing from it
        assertThat(r.err()).as(name).doesNotContainIgnoringCase("done in");
        if (!model) {
            assertThat(r.err()).as(name).doesNotContain("Loading model");
        }
        assertThat(dir.resolve("x.json")).as(name + ": no graph written").doesNotExist();
        System.out.println(name + " -> " + r.err().lines().filter(l -> !l.startsWith("Loading")).findFirst()
                .orElse(""));
    }
}
