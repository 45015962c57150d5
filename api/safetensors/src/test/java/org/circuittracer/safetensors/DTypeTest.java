package org.circuittracer.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import org.junit.jupiter.api.Test;

class DTypeTest {

    @Test
    void namesSizesAndKinds() {
        for (DType t : DType.values()) {
            assertThat(DType.fromName(t.safetensorsName())).isSameAs(t);
        }
        assertThat(DType.F32.byteSize()).isEqualTo(4);
        assertThat(DType.BF16.byteSize()).isEqualTo(2);
        assertThat(DType.I64.byteSize()).isEqualTo(8);
        assertThat(DType.BOOL.byteSize()).isEqualTo(1);
        assertThat(DType.C64.byteSize()).isEqualTo(8);
        assertThat(DType.F16.isFloatingPoint()).isTrue();
        assertThat(DType.F8_E4M3.isFloatingPoint()).isTrue();
        assertThat(DType.I32.isFloatingPoint()).isFalse();
        assertThat(DType.C64.isFloatingPoint()).isFalse();
        assertThat(DType.U8.isInteger()).isTrue();
        assertThat(DType.U8.isUnsigned()).isTrue();
        assertThat(DType.BOOL.isInteger()).isFalse();
    }

    @Test
    void unknownNamesListTheKnownOnes() {
        SafetensorsFormatException e = catchThrowableOfType(SafetensorsFormatException.class,
                () -> DType.fromName("F33"));
        assertThat(e.kind()).isEqualTo(SafetensorsFormatException.Kind.UNKNOWN_DTYPE);
        assertThat(e.getMessage()).contains("\"F33\"", "F32", "BF16", "I64", "BOOL");
        assertThat(catchThrowableOfType(SafetensorsFormatException.class, () -> DType.fromName("f32")).getMessage())
                .contains("case-sensitive", "\"F32\"");
        assertThat(catchThrowableOfType(SafetensorsFormatException.class, () -> DType.fromName("F4")).getMessage())
                .contains("Sub-byte");
        assertThat(catchThrowableOfType(SafetensorsFormatException.class, () -> DType.fromName(null)).kind())
                .isEqualTo(SafetensorsFormatException.Kind.UNKNOWN_DTYPE);
    }
}
