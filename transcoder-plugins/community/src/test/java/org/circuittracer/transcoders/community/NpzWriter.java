package org.circuittracer.transcoders.community;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.circuittracer.safetensors.HalfFloats;

/**
 * Writes {@code .npy} arrays and {@code .npz} archives byte for byte as NumPy does: magic {@code \x93NUMPY}, version
 * 1.0, a 2-byte little-endian header length, and the dict {@code {'descr': '<f4', 'fortran_order': False, 'shape':
 * (3, 4), }} padded with spaces to a multiple of 64 bytes in all, ending with a newline; {@code np.savez} stores the
 * entries, {@code np.savez_compressed} deflates them.
 */
public final class NpzWriter {

    /** An array: NumPy's dtype string ({@code <f4}, {@code <f2}, {@code <f8}), order, shape, C-order values. */
    public record Array(String descr, boolean fortran, long[] shape, float[] values) {
        public static Array f32(long[] shape, float[] values) {
            return new Array("<f4", false, shape, values);
        }
    }

    private NpzWriter() {
    }

    /** The {@code .npy} bytes of an array (for Fortran order, the values are written column by column). */
    public static byte[] npy(Array array) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header(array.descr(), array.fortran(), array.shape()));
        int size = Integer.parseInt(array.descr().substring(2));
        ByteBuffer data = ByteBuffer.allocate(array.values().length * size).order(ByteOrder.LITTLE_ENDIAN);
        float[] values = array.fortran() ? columnMajor(array.values(), array.shape()) : array.values();
        for (float v : values) {
            switch (array.descr()) {
                case "<f4" -> data.putFloat(v);
                case "<f2" -> data.putShort(HalfFloats.floatToF16(v));
                case "<f8" -> data.putDouble(v);
                default -> throw new IllegalArgumentException(array.descr());
            }
        }
        out.writeBytes(data.array());
        return out.toByteArray();
    }

    /** The header NumPy writes (format 1.0). */
    public static byte[] header(String descr, boolean fortran, long[] shape) {
        String tuple = shape.length == 1 ? "(" + shape[0] + ",)"
                : Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", ", "(", ")"));
        StringBuilder dict = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': "
                + (fortran ? "True" : "False") + ", 'shape': " + tuple + ", }");
        while ((10 + dict.length() + 1) % 64 != 0) {
            dict.append(' ');
        }
        dict.append('\n');
        byte[] text = dict.toString().getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer header = ByteBuffer.allocate(10 + text.length).order(ByteOrder.LITTLE_ENDIAN);
        header.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) text.length).put(text);
        return header.array();
    }

    /** Writes {@code file} with one {@code name.npy} entry per array, stored or deflated. */
    public static void npz(Path file, Map<String, Array> arrays, boolean compressed) {
        try (OutputStream stream = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(stream)) {
            for (Map.Entry<String, Array> array : arrays.entrySet()) {
                byte[] bytes = npy(array.getValue());
                ZipEntry entry = new ZipEntry(array.getKey() + ".npy");
                if (!compressed) {
                    CRC32 crc = new CRC32();
                    crc.update(bytes);
                    entry.setMethod(ZipEntry.STORED);
                    entry.setSize(bytes.length);
                    entry.setCompressedSize(bytes.length);
                    entry.setCrc(crc.getValue());
                }
                zip.putNextEntry(entry);
                zip.write(bytes);
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static float[] columnMajor(float[] values, long[] shape) {
        if (shape.length < 2) {
            return values;
        }
        int rows = (int) shape[0];
        int cols = (int) shape[1];
        float[] out = new float[values.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                out[j * rows + i] = values[i * cols + j];
            }
        }
        return out;
    }
}
