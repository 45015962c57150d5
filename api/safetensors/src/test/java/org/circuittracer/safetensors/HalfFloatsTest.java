package org.circuittracer.safetensors;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HalfFloatsTest {

    private static final float F16_MAX = 65504f;

    @Test
    void f16WideningIsExactAndNarrowingRoundTripsEveryValue() {
        for (int bits = 0; bits < 0x10000; bits++) {
            short h = (short) bits;
            float f = HalfFloats.f16ToFloat(h);
            boolean nan = (bits & 0x7C00) == 0x7C00 && (bits & 0x3FF) != 0;
            assertThat(Float.isNaN(f)).as("0x%04X", bits).isEqualTo(nan);
            if (nan) {
                assertThat(HalfFloats.f16ToFloat(HalfFloats.floatToF16(f))).isNaN();
            } else {
                assertThat(HalfFloats.floatToF16(f)).as("0x%04X", bits).isEqualTo(h);
            }
        }
    }

    @Test
    void f16KnownValues() {
        assertThat(HalfFloats.f16ToFloat((short) 0x3C00)).isEqualTo(1.0f);
        assertThat(HalfFloats.f16ToFloat((short) 0xC000)).isEqualTo(-2.0f);
        assertThat(HalfFloats.f16ToFloat((short) 0x7BFF)).isEqualTo(F16_MAX);
        assertThat(HalfFloats.f16ToFloat((short) 0x0001)).isEqualTo(0x1p-24f); // smallest subnormal
        assertThat(HalfFloats.f16ToFloat((short) 0x0400)).isEqualTo(0x1p-14f); // smallest normal
        assertThat(HalfFloats.f16ToFloat((short) 0x7C00)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(HalfFloats.f16ToFloat((short) 0xFC00)).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(Float.floatToRawIntBits(HalfFloats.f16ToFloat((short) 0x8000))).isEqualTo(0x8000_0000);
        assertThat(HalfFloats.floatToF16(0.1f)).isEqualTo((short) 0x2E66);
        assertThat(HalfFloats.floatToF16(-0.0f)).isEqualTo((short) 0x8000);
        assertThat(HalfFloats.floatToF16(65519.99f)).isEqualTo((short) 0x7BFF); // below max + half ulp
        assertThat(HalfFloats.floatToF16(65520f)).isEqualTo((short) 0x7C00); // the tie rounds to "even" infinity
        assertThat(HalfFloats.floatToF16(1e10f)).isEqualTo((short) 0x7C00);
        assertThat(HalfFloats.floatToF16(-1e10f)).isEqualTo((short) 0xFC00);
        assertThat(HalfFloats.floatToF16(0x1p-25f)).isEqualTo((short) 0); // tie between 0 and 2^-24: even is 0
        assertThat(HalfFloats.floatToF16(Math.nextUp(0x1p-25f))).isEqualTo((short) 1);
        assertThat(HalfFloats.floatToF16(0x1p-26f)).isEqualTo((short) 0);
        assertThat(HalfFloats.floatToF16(Float.MIN_VALUE)).isEqualTo((short) 0);
        assertThat(HalfFloats.floatToF16(Float.NEGATIVE_INFINITY)).isEqualTo((short) 0xFC00);
        assertThat(HalfFloats.f16ToFloat(HalfFloats.floatToF16(Float.NaN))).isNaN();
        // a NaN whose payload lives only in the low bits must not turn into infinity
        assertThat(HalfFloats.f16ToFloat(HalfFloats.floatToF16(Float.intBitsToFloat(0x7F80_0001)))).isNaN();
    }

    @Test
    void f16TiesGoToEvenAndEverythingElseToNearest() {
        // every midpoint between adjacent finite halves, and the floats just beside it
        for (int m = 0; m < 0x7BFF; m++) {
            float lo = HalfFloats.f16ToFloat((short) m);
            float hi = HalfFloats.f16ToFloat((short) (m + 1));
            float mid = (float) (((double) lo + hi) / 2); // exact: halves have few significant bits
            assertThat((double) mid).isEqualTo(((double) lo + hi) / 2);
            short even = (short) ((m & 1) == 0 ? m : m + 1);
            assertThat(HalfFloats.floatToF16(mid)).as("tie above 0x%04X", m).isEqualTo(even);
            assertThat(HalfFloats.floatToF16(-mid)).isEqualTo((short) (even | 0x8000));
            assertThat(HalfFloats.floatToF16(Math.nextDown(mid))).isEqualTo((short) m);
            assertThat(HalfFloats.floatToF16(Math.nextUp(mid))).isEqualTo((short) (m + 1));
        }
    }

    @Test
    void f16RoundsRandomFloatsToTheNearestHalf() {
        SplittableRandom random = new SplittableRandom(16);
        for (int i = 0; i < 200_000; i++) {
            // exponents spanning subnormal halves to overflow
            float f = Float.intBitsToFloat((random.nextInt(0, 2) << 31) | (random.nextInt(100, 145) << 23)
                    | random.nextInt(1 << 23));
            short h = HalfFloats.floatToF16(f);
            int mag = h & 0x7FFF;
            if (mag == 0x7C00) {
                assertThat(Math.abs(f)).isGreaterThanOrEqualTo(65520f);
                continue;
            }
            double err = Math.abs((double) f - HalfFloats.f16ToFloat(h));
            for (int neighbour : new int[] {mag - 1, mag + 1}) {
                if (neighbour >= 0 && neighbour < 0x7C00) {
                    double other = Math.abs(Math.abs((double) f) - HalfFloats.f16ToFloat((short) neighbour));
                    assertThat(err).as("%s -> 0x%04X", f, h).isLessThanOrEqualTo(other);
                }
            }
        }
    }

    @Test
    void bf16RoundTripsEveryValueAndRoundsTiesToEven() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = HalfFloats.bf16ToFloat((short) bits);
            if (Float.isNaN(f)) {
                assertThat(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(f))).isNaN();
                continue;
            }
            assertThat(HalfFloats.floatToBf16(f)).isEqualTo((short) bits);
            if ((bits & 0x7FFF) < 0x7F80) { // finite: check the tie just above it
                int tieBits = (bits << 16) | 0x8000;
                short even = (short) ((bits & 1) == 0 ? bits : bits + 1);
                assertThat(HalfFloats.floatToBf16(Float.intBitsToFloat(tieBits))).isEqualTo(even);
                assertThat(HalfFloats.floatToBf16(Float.intBitsToFloat(tieBits - 1))).isEqualTo((short) bits);
                assertThat(HalfFloats.floatToBf16(Float.intBitsToFloat(tieBits + 1))).isEqualTo((short) (bits + 1));
            }
        }
        assertThat(HalfFloats.floatToBf16(1.0f)).isEqualTo((short) 0x3F80);
        assertThat(HalfFloats.floatToBf16(Float.MAX_VALUE)).isEqualTo((short) 0x7F80); // overflows to infinity
        assertThat(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.intBitsToFloat(0x7FFF_FFFF)))).isNaN();
        assertThat(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.intBitsToFloat(0x7F80_0001)))).isNaN();
        assertThat(HalfFloats.floatToBf16(Float.MIN_VALUE)).isEqualTo((short) 0); // subnormal rounds to zero
    }

    @Test
    void float8Decoders() {
        assertThat(HalfFloats.f8e4m3ToFloat((byte) 0x38)).isEqualTo(1.0f);
        assertThat(HalfFloats.f8e4m3ToFloat((byte) 0x7E)).isEqualTo(448f); // the largest E4M3FN value
        assertThat(HalfFloats.f8e4m3ToFloat((byte) 0x01)).isEqualTo(0x1p-9f);
        assertThat(HalfFloats.f8e4m3ToFloat((byte) 0xB8)).isEqualTo(-1.0f);
        assertThat(HalfFloats.f8e4m3ToFloat((byte) 0x7F)).isNaN();
        assertThat(HalfFloats.f8e5m2ToFloat((byte) 0x3C)).isEqualTo(1.0f);
        assertThat(HalfFloats.f8e5m2ToFloat((byte) 0x7B)).isEqualTo(57344f);
        assertThat(HalfFloats.f8e5m2ToFloat((byte) 0x7C)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(HalfFloats.f8e8m0ToFloat((byte) 127)).isEqualTo(1.0f);
        assertThat(HalfFloats.f8e8m0ToFloat((byte) 0)).isEqualTo(0x1p-127f);
        assertThat(HalfFloats.f8e8m0ToFloat((byte) 0xFF)).isNaN();
    }
}
