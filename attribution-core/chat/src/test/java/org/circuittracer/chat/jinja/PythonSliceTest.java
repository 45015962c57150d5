package org.circuittracer.chat.jinja;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The indices Python's {@code slice(start, stop, step).indices(length)} visits. */
class PythonSliceTest {

    @Test
    void forwardSlicesClampAndCountNegativeIndicesFromTheEnd() {
        assertThat(PythonSlice.positions(5, null, null, 1)).containsExactly(0, 1, 2, 3, 4);
        assertThat(PythonSlice.positions(5, 1, -1, 1)).containsExactly(1, 2, 3);
        assertThat(PythonSlice.positions(5, -10, 10, 2)).containsExactly(0, 2, 4);
        assertThat(PythonSlice.positions(5, 4, 2, 1)).isEmpty();
    }

    @Test
    void backwardSlicesStartAtTheEnd() {
        assertThat(PythonSlice.positions(5, null, null, -1)).containsExactly(4, 3, 2, 1, 0);
        assertThat(PythonSlice.positions(5, -2, null, -2)).containsExactly(3, 1);
        assertThat(PythonSlice.positions(5, 10, -10, -3)).containsExactly(4, 1);
        assertThat(PythonSlice.positions(0, null, null, -1)).isEmpty();
    }
}
