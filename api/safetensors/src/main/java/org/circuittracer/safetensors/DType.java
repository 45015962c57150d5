package org.circuittracer.safetensors;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The element types of the safetensors format, named exactly as in file headers.
 *
 * <p>The constants are declared in the order of the Rust library's {@code Dtype} enum (increasing
 * alignment); {@link SafetensorsWriter.Order#PYTHON} sorts by it. The sub-byte types {@code F4},
 * {@code F6_E2M3} and {@code F6_E3M2} are not supported.
 */
public enum DType {
    /** Boolean, one byte, 0 or 1. */
    BOOL(1, Category.BOOL),
    /** Unsigned 8-bit integer. */
    U8(1, Category.UNSIGNED),
    /** Signed 8-bit integer. */
    I8(1, Category.SIGNED),
    /** 8-bit float, 1 sign, 5 exponent, 2 mantissa bits (the top byte of an F16). */
    F8_E5M2(1, Category.FLOAT),
    /** 8-bit float, 1 sign, 4 exponent, 3 mantissa bits, no infinities ("E4M3FN"). */
    F8_E4M3(1, Category.FLOAT),
    /** 8-bit power-of-two scale (MX formats): 2^(bits - 127), 0xFF is NaN. */
    F8_E8M0(1, Category.FLOAT),
    /** Signed 16-bit integer. */
    I16(2, Category.SIGNED),
    /** Unsigned 16-bit integer. */
    U16(2, Category.UNSIGNED),
    /** IEEE 754 half precision. */
    F16(2, Category.FLOAT),
    /** bfloat16: the top 16 bits of an F32. */
    BF16(2, Category.FLOAT),
    /** Signed 32-bit integer. */
    I32(4, Category.SIGNED),
    /** Unsigned 32-bit integer. */
    U32(4, Category.UNSIGNED),
    /** IEEE 754 single precision. */
    F32(4, Category.FLOAT),
    /** Complex number of two F32 (real, imaginary); readable only as raw bytes. */
    C64(8, Category.COMPLEX),
    /** IEEE 754 double precision. */
    F64(8, Category.FLOAT),
    /** Signed 64-bit integer. */
    I64(8, Category.SIGNED),
    /** Unsigned 64-bit integer. */
    U64(8, Category.UNSIGNED);

    private enum Category { BOOL, SIGNED, UNSIGNED, FLOAT, COMPLEX }

    private final int byteSize;
    private final Category category;

    DType(int byteSize, Category category) {
        this.byteSize = byteSize;
        this.category = category;
    }

    /** @return the number of bytes one element occupies */
    public int byteSize() {
        return byteSize;
    }

    /** @return whether elements are real floating-point numbers (convertible to {@code float}) */
    public boolean isFloatingPoint() {
        return category == Category.FLOAT;
    }

    /** @return whether elements are signed or unsigned integers ({@link #BOOL} is not) */
    public boolean isInteger() {
        return category == Category.SIGNED || category == Category.UNSIGNED;
    }

    /** @return whether elements are unsigned integers */
    public boolean isUnsigned() {
        return category == Category.UNSIGNED;
    }

    /** @return the name used in safetensors headers, e.g. {@code "BF16"} */
    public String safetensorsName() {
        return name();
    }

    /**
     * Looks up a dtype by its header name (case-sensitive, as the format is).
     *
     * @param name a header dtype such as {@code "F32"}
     * @return the dtype
     * @throws SafetensorsFormatException of kind {@link SafetensorsFormatException.Kind#UNKNOWN_DTYPE} naming the
     *         known dtypes if {@code name} is not one
     */
    public static DType fromName(String name) {
        if (name != null) {
            for (DType t : values()) {
                if (t.name().equals(name)) {
                    return t;
                }
            }
        }
        String known = Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
        String hint = name != null && (name.equals("F4") || name.startsWith("F6_"))
                ? " Sub-byte types are not supported by this reader."
                : name != null && fromNameIgnoreCase(name) != null
                        ? " Dtype names are case-sensitive; did you mean \"" + fromNameIgnoreCase(name) + "\"?"
                        : "";
        throw new SafetensorsFormatException(SafetensorsFormatException.Kind.UNKNOWN_DTYPE, null, null,
                "unknown dtype " + (name == null ? "null" : '"' + name + '"') + "; known dtypes are: " + known
                        + "." + hint);
    }

    private static DType fromNameIgnoreCase(String name) {
        for (DType t : values()) {
            if (t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        return null;
    }
}
