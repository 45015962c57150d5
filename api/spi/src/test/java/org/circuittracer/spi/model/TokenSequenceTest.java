package org.circuittracer.spi.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.junit.jupiter.api.Test;

class TokenSequenceTest {

    @Test
    void isImmutableAndComparedByValue() {
        int[] ids = {0, 5, 7};
        TokenSequence tokens = new TokenSequence(ids);
        ids[1] = 99;
        tokens.ids()[2] = 99;
        assertThat(tokens.ids()).containsExactly(0, 5, 7);
        assertThat(tokens).isEqualTo(TokenSequence.of(0, 5, 7)).hasSameHashCodeAs(TokenSequence.of(0, 5, 7));
        assertThat(tokens.append(3).ids()).containsExactly(0, 5, 7, 3);
    }

    @Test
    void emptyAndNegativePromptsAreUserErrors() {
        assertThatThrownBy(TokenSequence::of).isInstanceOfSatisfying(CircuitTracerException.class,
                e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining("prompt is empty");
        assertThatThrownBy(() -> TokenSequence.of(1, -2)).hasMessageContaining("Token id -2 at position 1");
    }

    @Test
    void vocabularyCheckNamesTheOffender() {
        assertThat(TokenSequence.of(0, 9).requireInVocabulary(10).length()).isEqualTo(2);
        assertThatThrownBy(() -> TokenSequence.of(0, 3, 10).requireInVocabulary(10))
                .hasMessageContaining("Token id 10 at position 2 is outside the vocabulary [0, 10)");
    }
}
