package org.circuittracer.safetensors;

/**
 * Conversions between {@code float} and the 16-bit formats IEEE half precision (F16) and bfloat16 (BF16).
 *
 * <p>The 16-bit values are passed as the raw bits in a {@code short}. Widening to {@code float} is exact.
 * Narrowing rounds to nearest, ties to even, as PyTorch's {@code tensor.to(torch.float16 / torch.bfloat16)}
 * does: values beyond the largest finite half overflow to infinity, tiny values become subnormals or signed
 * zeros, infinities are kept, and NaNs stay NaN (made quiet, sign and top payload bits kept).
 */
public final class HalfFloats {

    private HalfFloats() {
    }

    /**
     * @param bits the raw bits of an IEEE half
     * @return its exact value as a float
     */
    public static float f16ToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F80_0000 | (mant << 13));
        }
        if (exp == 0) {
            // subnormal (or zero): mant * 2^-24, exact in float
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + (127 - 15)) << 23) | (mant << 13));
    }

    /**
     * @param value a float
     * @return the raw bits of the nearest IEEE half (ties to even)
     */
    public static short floatToF16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xFF;
        int mant = bits & 0x7F_FFFF;
        if (exp == 0xFF) {
            return (short) (mant == 0 ? sign | 0x7C00 : sign | 0x7E00 | (mant >>> 13));
        }
        int e = exp - 127 + 15; // the half's biased exponent
        if (e >= 0x1F) {
            return (short) (sign | 0x7C00);
        }
        if (e <= 0) {
            if (e < -10) {
                return (short) sign; // below half the smallest subnormal: rounds to zero
            }
            // subnormal half: shift the full 24-bit significand right, rounding to nearest even;
            // a carry into bit 10 correctly yields the smallest normal
            return (short) (sign | shiftRoundEven(mant | 0x80_0000, 14 - e));
        }
        // normal: a carry out of the mantissa correctly bumps the exponent (up to infinity)
        return (short) (sign | ((e << 10) + shiftRoundEven(mant, 13)));
    }

    /**
     * @param bits the raw bits of a bfloat16
     * @return its exact value as a float
     */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * @param value a float
     * @return the raw bits of the nearest bfloat16 (ties to even)
     */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) {
            return (short) ((bits >>> 16) | 0x0040); // NaN: keep it NaN (rounding could make it infinite)
        }
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7FFF + lsb) >>> 16);
    }

    /** Shifts right by {@code shift} (1..31) rounding to nearest, ties to even. */
    private static int shiftRoundEven(int value, int shift) {
        int result = value >>> shift;
        int remainder = value & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (remainder > half || (remainder == half && (result & 1) != 0)) {
            result++;
        }
        return result;
    }

    /** F8_E4M3 ("E4M3FN": bias 7, no infinities, S.1111.111 is NaN) to float, exact. */
    static float f8e4m3ToFloat(byte bits) {
        int b = bits & 0xFF;
        int exp = (b >>> 3) & 0xF;
        int mant = b & 0x7;
        float v;
        if (exp == 0xF && mant == 0x7) {
            v = Float.NaN;
        } else if (exp == 0) {
            v = mant * 0x1p-9f;
        } else {
            v = Float.intBitsToFloat(((exp - 7 + 127) << 23) | (mant << 20));
        }
        return (b & 0x80) != 0 ? -v : v;
    }

    /** F8_E5M2 to float, exact: it is the top byte of an F16. */
    static float f8e5m2ToFloat(byte bits) {
        return f16ToFloat((short) ((bits & 0xFF) << 8));
    }

    /** F8_E8M0 (unsigned power-of-two scale) to float: 2^(bits - 127), 0xFF is NaN. */
    static float f8e8m0ToFloat(byte bits) {
        int b = bits & 0xFF;
        return b == 0xFF ? Float.NaN : Math.scalb(1.0f, b - 127);
    }
}
