package org.circuittracer.transcoders.numpy;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.HalfFloats;
import org.circuittracer.safetensors.SafetensorsFormatException;
import org.circuittracer.safetensors.TensorInfo;
import org.circuittracer.safetensors.TensorSource;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * A NumPy {@code .npz} archive (a zip of {@code .npy} arrays, as {@code np.savez} and {@code np.savez_compressed} write
 * it) behind the {@link TensorSource} interface, so that the transcoder machinery reads it like a safetensors file.
 *
 * <p>{@link #open(Path)} reads the zip directory and every array's header only. An array's data is read on first use
 * into one direct (off-heap) buffer, converted to float32 and, for Fortran-order matrices, transposed into C order on
 * the way, then kept until {@link #close()}: the dictionary's tensors alias it, so there is one copy. Stored entries
 * ({@code np.savez}) are streamed without inflating; deflated ones ({@code np.savez_compressed}) are inflated in small
 * chunks. Every array reports dtype F32 and its C-order shape; names are the entry names without {@code .npy}.
 *
 * <p>Errors are {@link CircuitTracerException}s naming the file and entry: MALFORMED_FILE for a file that is not a zip,
 * a bad {@code .npy} header, an unsupported dtype, a size that does not match the shape, or a truncated or corrupt
 * entry; FILE_NOT_FOUND for a missing file; OUT_OF_RESOURCES for an array over 2 GiB as float32. Thread-safe.
 */
public final class NpzArchive implements TensorSource {

    private static final String SUFFIX = ".npy";
    private static final int CHUNK = 1 << 16;
    private static final long MAX_BUFFER = Integer.MAX_VALUE - 8;

    /** One array: its zip entry and header. */
    private record Entry(ZipEntry zip, NpyHeader header, TensorInfo info) {
    }

    private final Path file;
    private final ZipFile zip;
    private final Map<String, Entry> entries;
    private final Map<String, ByteBuffer> loaded = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private NpzArchive(Path file, ZipFile zip, Map<String, Entry> entries) {
        this.file = file;
        this.zip = zip;
        this.entries = Collections.unmodifiableMap(entries);
    }

    /**
     * Opens an archive, reading its directory and the header of every {@code .npy} entry.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND, or MALFORMED_FILE naming the entry
     */
    public static NpzArchive open(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, file + " does not exist"
                    + (Files.isDirectory(file) ? " as a file (it is a directory)" : "") + ".");
        }
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " is not a zip archive, so not "
                    + "a NumPy .npz file (" + e.getMessage() + "); re-download or re-save it with np.savez.", e);
        } catch (NoSuchFileException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, file + " does not exist.", e);
        } catch (EOFException e) { // found by fuzzing: a zip directory that claims more bytes than the file has
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " is a truncated or corrupt zip "
                    + "archive, so not a readable NumPy .npz file; re-download or re-save it with np.savez.", e);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot read " + file + ": " + e, e);
        }
        try {
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (ZipEntry entry : Collections.list(zip.entries())) {
                if (entry.isDirectory() || !entry.getName().endsWith(SUFFIX)) {
                    continue;
                }
                String name = entry.getName().substring(0, entry.getName().length() - SUFFIX.length());
                String where = where(file, entry);
                NpyHeader header;
                try (InputStream in = zip.getInputStream(entry)) {
                    header = NpyHeader.read(in, where);
                } catch (IOException e) { // the archive opened: a failing entry is corrupt (ZipException, EOF)
                    throw corrupt(where, e);
                }
                long size = entry.getSize();
                if (size >= 0 && size != header.headerBytes() + header.dataBytes()) {
                    throw NpyHeader.malformed(where, "holds " + (size - header.headerBytes()) + " data bytes but its "
                            + "header declares " + header.dtype().descr() + " " + java.util.Arrays.toString(
                            header.shape()) + " (" + header.dataBytes() + " bytes); it is truncated or corrupt");
                }
                if (header.numel() * Float.BYTES > MAX_BUFFER) {
                    throw new CircuitTracerException(StandardErrorCode.OUT_OF_RESOURCES, where + " has "
                            + header.numel() + " elements, more than one 2 GiB float32 buffer holds; this reader "
                            + "loads each array whole.");
                }
                if (header.fortranOrder() && header.shape().length > 2) {
                    throw NpyHeader.malformed(where, "is a Fortran-order array of rank " + header.shape().length
                            + "; Fortran order is read for vectors and matrices only (re-save it with "
                            + "np.ascontiguousarray)");
                }
                TensorInfo info = new TensorInfo(name, DType.F32, header.shape(), 0, header.numel() * Float.BYTES);
                entries.put(name, new Entry(entry, header, info));
            }
            return new NpzArchive(file, zip, entries);
        } catch (IllegalArgumentException e) { // ZipFile: an entry name that is not valid in its declared charset
            CircuitTracerException malformed = new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file
                    + " is a corrupt zip archive (" + e.getMessage() + "); re-download or re-save it with np.savez.", e);
            try {
                zip.close();
            } catch (IOException suppressed) {
                malformed.addSuppressed(suppressed);
            }
            throw malformed;
        } catch (RuntimeException e) {
            try {
                zip.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** The archive file. */
    public Path path() {
        return file;
    }

    @Override
    public List<String> names() {
        return new ArrayList<>(entries.keySet());
    }

    @Override
    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        return entry(name).info();
    }

    /** The {@code .npy} header of an array, as stored (dtype, order, shape). */
    public NpyHeader header(String name) {
        return entry(name).header();
    }

    @Override
    public Path fileOf(String name) {
        entry(name);
        return file;
    }

    @Override
    public Map<String, String> metadata() {
        return Map.of();
    }

    @Override
    public ByteBuffer bytes(String name) {
        return view(name);
    }

    @Override
    public ByteBuffer bytes(String name, long byteOffset, long byteLength) {
        ByteBuffer all = view(name);
        if (byteOffset < 0 || byteLength < 0 || byteOffset + byteLength > all.capacity()) {
            throw new SafetensorsFormatException(SafetensorsFormatException.Kind.INDEX_OUT_OF_RANGE, file, name,
                    "bytes [" + byteOffset + ", " + (byteOffset + byteLength) + ") are outside the array's "
                            + all.capacity() + " bytes");
        }
        return all.slice((int) byteOffset, (int) byteLength).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Drops the loaded arrays (tensors made from them must be closed first) and closes the file. */
    @Override
    public void close() {
        closed = true;
        loaded.clear();
        try {
            zip.close();
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot close " + file + ": " + e, e);
        }
    }

    @Override
    public String toString() {
        return "NpzArchive[" + file + ", " + entries.keySet() + "]";
    }

    private Entry entry(String name) {
        Entry entry = entries.get(name);
        if (entry == null) {
            throw new SafetensorsFormatException(SafetensorsFormatException.Kind.MISSING_TENSOR, file, name,
                    "has no array '" + name + "' (entry " + name + SUFFIX + "); it holds " + entries.keySet());
        }
        return entry;
    }

    /** A read-only little-endian view of the loaded array. */
    private ByteBuffer view(String name) {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
        Entry entry = entry(name);
        ByteBuffer data = loaded.computeIfAbsent(name, n -> load(entry));
        return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Reads one array into a new direct buffer of float32, C order. */
    private ByteBuffer load(Entry entry) {
        NpyHeader header = entry.header();
        String where = where(file, entry.zip());
        int numel = Math.toIntExact(header.numel());
        ByteBuffer out = ByteBuffer.allocateDirect(numel * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        FloatBuffer floats = out.asFloatBuffer();
        long[] shape = header.shape();
        boolean transpose = header.fortranOrder() && shape.length == 2;
        int rows = transpose ? Math.toIntExact(shape[0]) : 0;
        int cols = transpose ? Math.toIntExact(shape[1]) : 0;
        int size = header.dtype().size();
        try (InputStream in = zip.getInputStream(entry.zip())) {
            in.readNBytes(header.headerBytes());
            byte[] chunk = new byte[CHUNK - CHUNK % 8];
            ByteBuffer wrapped = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
            int index = 0;
            while (index < numel) {
                int want = (int) Math.min(chunk.length, (long) (numel - index) * size);
                int got = in.readNBytes(chunk, 0, want);
                if (got < want) {
                    throw NpyHeader.malformed(where, "ends after " + ((long) index * size + got) + " of its "
                            + header.dataBytes() + " data bytes; it is truncated");
                }
                if (header.dtype() == NpyHeader.ElementType.F32 && !transpose) {
                    out.put(index * Float.BYTES, chunk, 0, got); // already little-endian float32
                    index += got / Float.BYTES;
                    continue;
                }
                for (int offset = 0; offset < got; offset += size, index++) {
                    float value = switch (header.dtype()) {
                        case F16 -> HalfFloats.f16ToFloat(wrapped.getShort(offset));
                        case F32 -> wrapped.getFloat(offset);
                        case F64 -> (float) wrapped.getDouble(offset);
                    };
                    // Fortran order lists [rows, cols] column by column: element (index % rows, index / rows)
                    floats.put(transpose ? (index % rows) * cols + index / rows : index, value);
                }
            }
        } catch (ZipException | EOFException e) {
            throw corrupt(where, e);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, where + ": cannot read: " + e, e);
        }
        return out;
    }

    private static String where(Path file, ZipEntry entry) {
        return file + ": " + entry.getName();
    }

    private static CircuitTracerException corrupt(String where, IOException e) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, where + " is a corrupt zip entry ("
                + e.getMessage() + "); re-download or re-save the file.", e);
    }
}
