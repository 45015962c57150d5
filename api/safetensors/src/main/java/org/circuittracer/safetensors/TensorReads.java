package org.circuittracer.safetensors;

import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.INDEX_OUT_OF_RANGE;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.TOO_LARGE;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.UNSUPPORTED_CONVERSION;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * The conversions and gathers behind {@link TensorSource}'s default methods. Everything reads through
 * {@link TensorSource#bytes(String, long, long)} in chunks, so tensors larger than one 2 GiB buffer work as
 * long as the result fits in a Java array.
 */
final class TensorReads {

    /** Bytes converted per mapped slice. */
    private static final long CHUNK_BYTES = 1L << 26;
    /** The largest Java array the JVM reliably allocates. */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private TensorReads() {
    }

    static float[] readFloats(TensorSource s, String name) {
        TensorInfo t = s.info(name);
        requireFloat(s, t, "readFloats");
        long n = t.numel();
        if (n > MAX_ARRAY) {
            throw error(s, t, TOO_LARGE, n + " elements do not fit in one Java array; use readAsFloat32Direct, "
                    + "gatherRows or gatherRowSlices to read it in parts");
        }
        float[] out = new float[(int) n];
        decodeFloats(s, t, 0, n, FloatBuffer.wrap(out));
        return out;
    }

    static ByteBuffer readAsFloat32Direct(TensorSource s, String name) {
        TensorInfo t = s.info(name);
        requireFloat(s, t, "readAsFloat32Direct");
        long n = t.numel();
        if (n * 4 > MappedRegions.MAX_BUFFER) {
            throw error(s, t, TOO_LARGE, "as F32 it needs " + n * 4 + " bytes, more than one Java buffer holds "
                    + "(2 GiB); use gatherRows or gatherRowSlices to read it in parts");
        }
        if (t.dtype() == DType.F32) {
            return s.bytes(name); // zero copy: the mapped bytes already are little-endian F32
        }
        ByteBuffer out = ByteBuffer.allocateDirect((int) (n * 4)).order(ByteOrder.LITTLE_ENDIAN);
        decodeFloats(s, t, 0, n, out.asFloatBuffer());
        return out;
    }

    static long[] readLongs(TensorSource s, String name) {
        TensorInfo t = s.info(name);
        requireIntegral(s, t, "readLongs");
        long[] out = new long[checkedArrayLength(s, t)];
        int es = t.dtype().byteSize();
        int i = 0;
        for (long off = 0; off < t.byteSize(); off += CHUNK_BYTES) {
            ByteBuffer b = s.bytes(name, off, Math.min(CHUNK_BYTES, t.byteSize() - off));
            int count = b.limit() / es;
            for (int k = 0; k < count; k++, i++) {
                long v = integral(t.dtype(), b, k);
                if (t.dtype() == DType.U64 && v < 0) {
                    throw error(s, t, UNSUPPORTED_CONVERSION, "element " + i + " is " + Long.toUnsignedString(v)
                            + ", which does not fit in a signed long");
                }
                out[i] = v;
            }
        }
        return out;
    }

    static int[] readInts(TensorSource s, String name) {
        TensorInfo t = s.info(name);
        requireIntegral(s, t, "readInts");
        int[] out = new int[checkedArrayLength(s, t)];
        int es = t.dtype().byteSize();
        int i = 0;
        for (long off = 0; off < t.byteSize(); off += CHUNK_BYTES) {
            ByteBuffer b = s.bytes(name, off, Math.min(CHUNK_BYTES, t.byteSize() - off));
            int count = b.limit() / es;
            for (int k = 0; k < count; k++, i++) {
                long v = integral(t.dtype(), b, k);
                if (v != (int) v || (t.dtype() == DType.U64 && v < 0)) {
                    String shown = t.dtype() == DType.U64 ? Long.toUnsignedString(v) : Long.toString(v);
                    throw error(s, t, UNSUPPORTED_CONVERSION, "element " + i + " is " + shown
                            + ", which does not fit in an int; use readLongs");
                }
                out[i] = (int) v;
            }
        }
        return out;
    }

    static int rowLengthAsInt(TensorSource s, TensorInfo t) {
        long len = t.rowLength();
        if (len > MAX_ARRAY) {
            throw error(s, t, TOO_LARGE, "one row has " + len + " elements, too many for one Java array; "
                    + "use gatherRowSlices to read part of each row");
        }
        return (int) len;
    }

    static float[] gatherToArray(TensorSource s, TensorInfo t, int[] rowIds, long colStart, int colLength) {
        long total = (long) rowIds.length * colLength;
        if (total > MAX_ARRAY) {
            throw error(s, t, TOO_LARGE, "gathering " + rowIds.length + " rows of " + colLength + " elements gives "
                    + total + " floats, too many for one Java array; gather fewer rows at a time");
        }
        checkGather(s, t, rowIds, colStart, colLength); // before allocating: rowLength comes from the file
        float[] out = new float[(int) total];
        copyRows(s, t, rowIds, colStart, colLength, FloatBuffer.wrap(out));
        return out;
    }

    static ByteBuffer gatherToDirect(TensorSource s, TensorInfo t, int[] rowIds, long colStart, int colLength) {
        long bytes = (long) rowIds.length * colLength * 4;
        if (bytes > MappedRegions.MAX_BUFFER) {
            throw error(s, t, TOO_LARGE, "gathering " + rowIds.length + " rows of " + colLength + " elements needs "
                    + bytes + " bytes, more than one Java buffer holds (2 GiB); gather fewer rows at a time");
        }
        checkGather(s, t, rowIds, colStart, colLength);
        ByteBuffer out = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        copyRows(s, t, rowIds, colStart, colLength, out.asFloatBuffer());
        return out;
    }

    static void gather(TensorSource s, TensorInfo t, int[] rowIds, long colStart, int colLength, FloatBuffer dest) {
        checkGather(s, t, rowIds, colStart, colLength);
        long needed = (long) rowIds.length * colLength;
        if (dest.remaining() < needed) {
            throw new IllegalArgumentException("destination has room for " + dest.remaining() + " floats, "
                    + needed + " needed");
        }
        copyRows(s, t, rowIds, colStart, colLength, dest);
    }

    /** Checks dtype, columns and every row id, so that nothing is allocated or half-written for a bad request. */
    private static void checkGather(TensorSource s, TensorInfo t, int[] rowIds, long colStart, int colLength) {
        requireFloat(s, t, "gatherRows");
        long rows = t.rows();
        long rowLength = t.rowLength();
        if (colStart < 0 || colLength < 0 || colStart > rowLength - colLength) {
            throw error(s, t, INDEX_OUT_OF_RANGE, "columns [" + colStart + ", " + (colStart + colLength)
                    + ") are outside its rows: viewed as a [" + rows + ", " + rowLength + "] matrix, valid columns are 0.."
                    + (rowLength - 1));
        }
        for (int i = 0; i < rowIds.length; i++) {
            int r = rowIds[i];
            if (r < 0 || r >= rows) {
                throw error(s, t, INDEX_OUT_OF_RANGE, "row " + r + " (rowIds[" + i + "]) is out of range: "
                        + (rows == 0 ? "the tensor has no rows" : "valid rows are 0.." + (rows - 1)));
            }
        }
    }

    private static void copyRows(TensorSource s, TensorInfo t, int[] rowIds, long colStart, int colLength,
                                 FloatBuffer dest) {
        long rowLength = t.rowLength();
        for (int r : rowIds) {
            decodeFloats(s, t, r * rowLength + colStart, colLength, dest);
        }
    }

    /** Converts {@code count} elements starting at element {@code first} into {@code dst}, chunk by chunk. */
    private static void decodeFloats(TensorSource s, TensorInfo t, long first, long count, FloatBuffer dst) {
        DType dt = t.dtype();
        int es = dt.byteSize();
        long chunkElements = CHUNK_BYTES / es;
        for (long done = 0; done < count; ) {
            long n = Math.min(chunkElements, count - done);
            ByteBuffer b = s.bytes(t.name(), (first + done) * es, n * es);
            decodeFloats(dt, b, (int) n, dst);
            done += n;
        }
    }

    private static void decodeFloats(DType dt, ByteBuffer b, int n, FloatBuffer dst) {
        switch (dt) {
            case F32 -> dst.put(b.asFloatBuffer());
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst.put(HalfFloats.f16ToFloat(b.getShort(2 * i)));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst.put(HalfFloats.bf16ToFloat(b.getShort(2 * i)));
                }
            }
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    dst.put((float) b.getDouble(8 * i));
                }
            }
            case F8_E4M3 -> {
                for (int i = 0; i < n; i++) {
                    dst.put(HalfFloats.f8e4m3ToFloat(b.get(i)));
                }
            }
            case F8_E5M2 -> {
                for (int i = 0; i < n; i++) {
                    dst.put(HalfFloats.f8e5m2ToFloat(b.get(i)));
                }
            }
            case F8_E8M0 -> {
                for (int i = 0; i < n; i++) {
                    dst.put(HalfFloats.f8e8m0ToFloat(b.get(i)));
                }
            }
            default -> throw new AssertionError(dt); // requireFloat ran first
        }
    }

    /** Element {@code k} of an integral buffer, as a long (U64 as its two's-complement bits). */
    private static long integral(DType dt, ByteBuffer b, int k) {
        return switch (dt) {
            case BOOL -> b.get(k) != 0 ? 1 : 0;
            case U8 -> b.get(k) & 0xFFL;
            case I8 -> b.get(k);
            case I16 -> b.getShort(2 * k);
            case U16 -> b.getShort(2 * k) & 0xFFFFL;
            case I32 -> b.getInt(4 * k);
            case U32 -> b.getInt(4 * k) & 0xFFFF_FFFFL;
            case I64, U64 -> b.getLong(8 * k);
            default -> throw new AssertionError(dt);
        };
    }

    private static int checkedArrayLength(TensorSource s, TensorInfo t) {
        long n = t.numel();
        if (n > MAX_ARRAY) {
            throw error(s, t, TOO_LARGE, n + " elements do not fit in one Java array; read it in parts with bytes()");
        }
        return (int) n;
    }

    private static void requireFloat(TensorSource s, TensorInfo t, String method) {
        if (!t.dtype().isFloatingPoint()) {
            throw error(s, t, UNSUPPORTED_CONVERSION, method + " needs a floating-point tensor, but its dtype is "
                    + t.dtype() + (t.dtype().isInteger() || t.dtype() == DType.BOOL
                            ? "; use readLongs or readInts" : "; use bytes() for the raw data"));
        }
    }

    private static void requireIntegral(TensorSource s, TensorInfo t, String method) {
        if (!t.dtype().isInteger() && t.dtype() != DType.BOOL) {
            throw error(s, t, UNSUPPORTED_CONVERSION, method + " needs an integer or BOOL tensor, but its dtype is "
                    + t.dtype() + (t.dtype().isFloatingPoint() ? "; use readFloats" : "; use bytes() for the raw data"));
        }
    }

    static SafetensorsFormatException error(TensorSource s, TensorInfo t,
                                            SafetensorsFormatException.Kind kind, String message) {
        return new SafetensorsFormatException(kind, s.fileOf(t.name()), t.name(), "tensor " + Json.quote(t.name())
                + " (" + t.dtype() + " " + t.shapeString() + "): " + message);
    }
}
