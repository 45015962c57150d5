package org.circuittracer.spi.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.OptionalInt;
import org.circuittracer.spi.CircuitTracerException;
import org.junit.jupiter.api.Test;

class PositionsTest {

    @Test
    void explicitPositionsCountFromTheEndWhenNegative() {
        assertThat(Positions.at(0, -1, 2).resolve(5)).containsExactly(0, 4, 2);
        assertThat(Positions.at(1).openEnded()).isFalse();
    }

    @Test
    void explicitPositionsOutsideTheSequenceAreAClearError() {
        assertThatThrownBy(() -> Positions.at(5).resolve(5)).isInstanceOf(CircuitTracerException.class)
                .hasMessageContaining("Position 5 is outside the sequence of 5 tokens (valid: -5 to 4)");
        assertThatThrownBy(() -> Positions.at(-6).resolve(5)).hasMessageContaining("Position -6");
        assertThatThrownBy(Positions::at).hasMessageContaining("No positions");
    }

    @Test
    void slicesFollowPythonSemantics() {
        assertThat(Positions.range(1, 4).resolve(10)).containsExactly(1, 2, 3);
        assertThat(Positions.range(-3, 100).resolve(5)).containsExactly(2, 3, 4);
        assertThat(new Positions.Slice(0, OptionalInt.empty(), 2).resolve(5)).containsExactly(0, 2, 4);
        assertThat(Positions.range(4, 2).resolve(5)).isEmpty();
        assertThat(Positions.from(1).resolve(3)).containsExactly(1, 2);
        assertThat(Positions.all().resolve(2)).containsExactly(0, 1);
    }

    @Test
    void openSlicesReachGeneratedPositions() {
        assertThat(Positions.from(6).openEnded()).isTrue();
        assertThat(Positions.from(6).resolve(8)).containsExactly(6, 7);
        assertThat(Positions.range(0, 6).openEnded()).isFalse();
    }

    @Test
    void stepMustBePositive() {
        assertThatThrownBy(() -> new Positions.Slice(0, OptionalInt.empty(), 0)).hasMessageContaining("positive step");
    }
}
