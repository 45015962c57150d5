package org.circuittracer.attribution.intervention;


import java.nio.charset.StandardCharsets;
import java.util.List;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.junit.jupiter.api.Test;

/** Viewer URL state ({@link ViewerUrl#decode}), fuzzed with the testkit's harness (docs/develop/fuzzing.md). */
class ViewerUrlFuzzTest {

    private static final List<String> SEEDS = List.of(
            "/index.html?slug=example-cat-sat&pinnedIds=3_611_3%2C1_4012_3%2C0_1234_2"
                    + "&supernodes=%5B%5B%22cat+%2F+animal%22%2C%220_1234_2%22%2C%221_4012_3%22%5D%5D"
                    + "&clickedId=1_4012_3&pruningThreshold=0.8"
                    + "&clerps=%5B%5B%228058103%22%2C%22sitting+%2F+posture%22%5D%5D",
            "?supernodes=[[\"say x\",\"2_7_4\"],[\"say x\",\"E_26865_9\",\"1_3_5\"],[\"say x\"]]&pinnedIds=5_22605_11",
            "https://www.neuronpedia.org/m/graph?supernodes=%5B%5B%2250%25+off%22%2C%221_2_3%22%5D%5D#frag");

    @Test
    void mutatedUrlsDecodeOrFailWithCircuitTracerException() {
        Fuzzer.Result r = Fuzzer.named("viewer URL").text().seedTexts(SEEDS)
                .strings(List.of("%", "%2", "%zz", "&", "=", "?", "E_1_2", "27_0_1", "-1_2_3", "1_2", "1__3"))
                .run((input, dir) -> {
                    String url = new String(input, StandardCharsets.UTF_8);
                    ViewerUrl.Decoded d = ViewerUrl.decode(url);
                    d.supernodes().keySet().forEach(name -> d.scale(name, -2));
                    ViewerUrl.decode(url, 4);
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }
}
