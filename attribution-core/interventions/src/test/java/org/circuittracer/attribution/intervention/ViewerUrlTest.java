package org.circuittracer.attribution.intervention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.circuittracer.attribution.intervention.ViewerUrl.Node;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.Positions;
import org.junit.jupiter.api.Test;

class ViewerUrlTest {

    /** docs/reference/graph-format.md §6.1's composed example (line breaks removed). */
    private static final String EXAMPLE = "/index.html?slug=example-cat-sat&pinnedIds=3_611_3%2C1_4012_3%2C0_1234_2"
            + "&supernodes=%5B%5B%22cat+%2F+animal%22%2C%220_1234_2%22%2C%221_4012_3%22%5D%5D"
            + "&clickedId=1_4012_3&pruningThreshold=0.8"
            + "&clerps=%5B%5B%228058103%22%2C%22sitting+%2F+posture%22%5D%5D";

    @Test
    void decodesTheDocumentedExample() {
        ViewerUrl.Decoded decoded = ViewerUrl.decode(EXAMPLE);
        assertThat(decoded.pinned()).containsExactly(new Node.Feature(3, 611, 3), new Node.Feature(1, 4012, 3),
                new Node.Feature(0, 1234, 2));
        assertThat(decoded.supernodes()).containsOnlyKeys("cat / animal");
        assertThat(decoded.features("cat / animal")).containsExactly(new Node.Feature(0, 1234, 2),
                new Node.Feature(1, 4012, 3));
        assertThat(decoded.scale("cat / animal", -2)).containsExactly(
                Intervention.scale(0, Positions.at(2), 1234, -2), Intervention.scale(1, Positions.at(3), 4012, -2));
    }

    @Test
    void duplicateLabelsAreSuffixedAndEmbeddingsAreAcceptedInSupernodes() {
        String json = "[[\"say x\",\"2_7_4\"],[\"say x\",\"E_26865_9\",\"1_3_5\"],[\"say x\"]]";
        ViewerUrl.Decoded decoded = ViewerUrl.decode("https://www.neuronpedia.org/m/graph?supernodes="
                + java.net.URLEncoder.encode(json, java.nio.charset.StandardCharsets.UTF_8) + "&pinnedIds=E_5_0");
        assertThat(decoded.supernodes()).containsOnlyKeys("say x", "say x (2)", "say x (3)");
        assertThat(decoded.supernodes().get("say x (2)")).containsExactly(new Node.Token(26865, 9),
                new Node.Feature(1, 3, 5));
        assertThat(decoded.features("say x (2)")).containsExactly(new Node.Feature(1, 3, 5));
        assertThat(decoded.pinned()).containsExactly(new Node.Token(5, 0));
    }

    @Test
    void aLiteralPercentInALabelSurvivesBecauseValuesAreDecodedOnce() {
        ViewerUrl.Decoded decoded = ViewerUrl.decode("?supernodes=%5B%5B%2250%25+off%22%2C%221_2_3%22%5D%5D");
        assertThat(decoded.supernodes()).containsOnlyKeys("50% off");
    }

    @Test
    void withTheLayerCountLogitsAreRecognisedAndImpossibleLayersRejected() {
        ViewerUrl.Decoded decoded = ViewerUrl.decode("?pinnedIds=5_22605_11,3_1_2", 4);
        assertThat(decoded.pinned()).containsExactly(new Node.Logit(22605, 11), new Node.Feature(3, 1, 2));
        assertInvalid(() -> ViewerUrl.decode("?pinnedIds=4_1_2", 4), "layers 0 to 3");
        assertThat(ViewerUrl.decode("?pinnedIds=4_1_2").pinned()).containsExactly(new Node.Feature(4, 1, 2));
    }

    @Test
    void aRenamedErrorIdIsAnErrorNodeThatScalingSkips() {
        // supernode [["mixed", "0_5_3", "0_5_3_error"]]: the layer-0 feature keeps 0_5_3, the error was renamed
        ViewerUrl.Decoded decoded = ViewerUrl.decode("?supernodes=%5B%5B%22mixed%22%2C%220_5_3%22%2C%220_5_3_error%22"
                + "%5D%5D&pinnedIds=0_5_3_error", 8);
        assertThat(decoded.supernodes().get("mixed")).containsExactly(new Node.Feature(0, 5, 3), new Node.Error(5, 3));
        assertThat(decoded.pinned()).containsExactly(new Node.Error(5, 3));
        assertThat(decoded.scale("mixed", -2)).hasSize(1);
        assertInvalid(() -> ViewerUrl.decode("?pinnedIds=0_9_3_error", 8), "layers 0 to 7");
        assertInvalid(() -> ViewerUrl.decode("?pinnedIds=1_5_3_error"), "'1_5_3_error'");
    }

    @Test
    void emptyOrAbsentParametersMeanNothing() {
        ViewerUrl.Decoded decoded = ViewerUrl.decode("/index.html?slug=x&pinnedIds=&supernodes=%5B%5D");
        assertThat(decoded.supernodes()).isEmpty();
        assertThat(decoded.pinned()).isEmpty();
        assertThat(ViewerUrl.decode("/index.html").pinned()).isEmpty();
    }

    @Test
    void malformedParametersAreRejectedWithTheOffendingValue() {
        assertInvalid(() -> ViewerUrl.decode("?pinnedIds=1_2"), "'1_2' in pinnedIds is not a node id");
        assertInvalid(() -> ViewerUrl.decode("?pinnedIds=1_2_3,,4_5_6"), "'' in pinnedIds");
        assertInvalid(() -> ViewerUrl.decode("?pinnedIds=a_b_c"), "'a_b_c'");
        assertInvalid(() -> ViewerUrl.decode("?pinnedIds=1_2_3_4"), "'1_2_3_4'");
        assertInvalid(() -> ViewerUrl.decode("?pinnedIds=E_1"), "'E_1'");
        assertInvalid(() -> ViewerUrl.decode("?pinnedIds=1_99999999999_3"), "out of range");
        assertInvalid(() -> ViewerUrl.decode("?pinnedIds=1_-2_3"), "negative feature index");
        assertInvalid(() -> ViewerUrl.decode("?pinnedIds=%zz"), "not validly percent-encoded");
        assertInvalid(() -> ViewerUrl.decode("?supernodes=%5B%5B"), "not JSON");
        assertInvalid(() -> ViewerUrl.decode("?supernodes=%7B%7D"), "JSON array");
        assertInvalid(() -> ViewerUrl.decode("?supernodes=%5B%5B1%2C%221_2_3%22%5D%5D"), "text label");
        assertInvalid(() -> ViewerUrl.decode("?supernodes=%5B%5B%22a%22%2C7%5D%5D"), "node id string");
        assertInvalid(() -> ViewerUrl.decode("?supernodes=%5B%5B%22a%22%2C%221_2%22%5D%5D"), "supernode 'a'");
        assertInvalid(() -> ViewerUrl.decode(EXAMPLE).features("dog"), "No supernode 'dog'");
    }

    private static void assertInvalid(Runnable call, String message) {
        assertThatThrownBy(call::run).isInstanceOf(CircuitTracerException.class)
                .satisfies(e -> assertThat(((CircuitTracerException) e).errorCode())
                        .isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining(message);
    }
}
