package org.circuittracer.safetensors;

import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.HEADER_LENGTH;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.INDEX_OUT_OF_RANGE;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.IO;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.MISSING_TENSOR;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.NOT_FOUND;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.TOO_LARGE;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.TRUNCATED;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One open safetensors file.
 *
 * <p>{@link #open(Path)} reads and validates the whole header, so a file that opens is consistent: every
 * tensor's byte range matches its dtype and shape, and the tensors tile the data section exactly. The data
 * is memory-mapped lazily, in windows, on first access, so opening a large checkpoint reads only its header.
 * Reads return zero-copy slices of the mapping or converted copies; see {@link TensorSource}.
 *
 * <p>{@link #names()} and {@link #tensors()} are in header order (for files written by the Python library
 * or {@link SafetensorsWriter}, that is also data order).
 *
 * <p>Thread-safe. Buffers returned by {@link #bytes(String)} stay valid after {@link #close()} (the
 * mapping outlives the channel) until they are garbage-collected. Do not truncate or rewrite a file while it
 * is open: the operating system may then fail accesses to the mapped pages.
 */
public final class SafetensorsFile implements TensorSource {

    private final Path path;
    private final FileChannel channel;
    private final long fileSize;
    private final long headerLength;
    private final HeaderParser.Header header;
    private final MappedRegions regions;
    private final List<String> names;
    private volatile boolean closed;

    private SafetensorsFile(Path path, FileChannel channel, long fileSize, long headerLength,
                            HeaderParser.Header header, long halfWindow) {
        this.path = path;
        this.channel = channel;
        this.fileSize = fileSize;
        this.headerLength = headerLength;
        this.header = header;
        this.regions = new MappedRegions(path, channel, fileSize, halfWindow);
        this.names = header.tensors().stream().map(TensorInfo::name).collect(Collectors.toUnmodifiableList());
    }

    /**
     * Opens and validates a safetensors file.
     *
     * @param file the file
     * @return the open file; close it when done
     * @throws SafetensorsFormatException if the file is missing, unreadable, or not a valid safetensors file
     */
    public static SafetensorsFile open(Path file) {
        return open(file, MappedRegions.DEFAULT_HALF_WINDOW);
    }

    /** Package-private for tests: small windows exercise the multi-window code on small files. */
    static SafetensorsFile open(Path file, long halfWindow) {
        if (Files.isDirectory(file)) {
            throw new SafetensorsFormatException(NOT_FOUND, file, null,
                    "is a directory, not a safetensors file; use ShardedCheckpoint.open for model directories");
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new SafetensorsFormatException(NOT_FOUND, file, null, "no such file; check the path", e);
        } catch (AccessDeniedException e) {
            throw new SafetensorsFormatException(IO, file, null, "permission denied; make the file readable", e);
        } catch (IOException | RuntimeException e) {
            throw new SafetensorsFormatException(IO, file, null, "cannot open the file: " + e, e);
        }
        try {
            long size = channel.size();
            long n = readHeaderLength(file, channel, size);
            byte[] headerBytes = new byte[(int) n]; // n <= 100,000,000 and <= size - 8: checked above
            readFully(file, channel, ByteBuffer.wrap(headerBytes), 8);
            HeaderParser.Header header = HeaderParser.parse(file, headerBytes, size - 8 - n);
            return new SafetensorsFile(file, channel, size, n, header, halfWindow);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new SafetensorsFormatException(IO, file, null, "cannot read the file: " + e, e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static long readHeaderLength(Path file, FileChannel channel, long size) throws IOException {
        if (size < 8) {
            throw new SafetensorsFormatException(TRUNCATED, file, null, "the file has " + size
                    + " bytes, fewer than the 8-byte header length that starts every safetensors file; it is "
                    + "truncated or not a safetensors file; re-download or re-export it");
        }
        ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, channel, prefix, 0);
        long n = prefix.getLong(0); // a u64; as a signed long, values >= 2^63 are negative
        String shown = Long.toUnsignedString(n);
        if (n == 0) {
            throw new SafetensorsFormatException(HEADER_LENGTH, file, null, "the header length (first 8 bytes) is 0; "
                    + "a safetensors header is at least \"{}\"; the file is corrupt or not a safetensors file");
        }
        if (n < 0 || n > HeaderParser.MAX_HEADER_LENGTH) {
            throw new SafetensorsFormatException(HEADER_LENGTH, file, null, "the header length (first 8 bytes) is "
                    + shown + ", above the format's limit of " + HeaderParser.MAX_HEADER_LENGTH + " bytes; "
                    + notSafetensorsHint(prefix.array()));
        }
        if (n > size - 8) {
            throw new SafetensorsFormatException(HEADER_LENGTH, file, null, "the header length (first 8 bytes) is "
                    + shown + " but only " + (size - 8) + " bytes follow it; the file is truncated or "
                    + notSafetensorsHint(prefix.array()));
        }
        return n;
    }

    /** Recognises files often mistaken for safetensors, to say what the file actually is. */
    private static String notSafetensorsHint(byte[] first8) {
        String start = new String(first8, StandardCharsets.ISO_8859_1);
        if (start.startsWith("version ")) {
            return "it looks like a Git LFS pointer file, not the real data: run 'git lfs pull' or download the file "
                    + "directly";
        }
        if (start.startsWith("PK")) {
            return "it looks like a zip archive (a PyTorch .bin/.pt checkpoint?), not safetensors; convert it to "
                    + "safetensors first";
        }
        if (start.startsWith("<") || start.startsWith("{")) {
            return "it looks like a text (HTML/JSON) file, not safetensors; was an error page downloaded instead?";
        }
        return "it is not a safetensors file or it is corrupt; re-download or re-export it";
    }

    private static void readFully(Path file, FileChannel channel, ByteBuffer dst, long position) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int read = channel.read(dst, pos);
            if (read < 0) {
                throw new SafetensorsFormatException(TRUNCATED, file, null,
                        "the file ended at byte " + pos + " while reading its header; was it truncated while open?");
            }
            pos += read;
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // already failing; the original error is more useful
        }
    }

    /** @return the file's path */
    public Path path() {
        return path;
    }

    /** @return the file's size in bytes when it was opened */
    public long fileSize() {
        return fileSize;
    }

    /** @return the header length N (the data section starts at byte 8 + N) */
    public long headerLength() {
        return headerLength;
    }

    /** @return the file offset of the data section, 8 + N */
    public long dataOffset() {
        return 8 + headerLength;
    }

    /** @return the {@code __metadata__} map in header order; empty if absent */
    @Override
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** @return the tensor names in header order */
    @Override
    public List<String> names() {
        return names;
    }

    /** @return every tensor's header entry, in header order */
    public List<TensorInfo> tensors() {
        return header.tensors();
    }

    @Override
    public boolean contains(String name) {
        return header.byName().containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo t = header.byName().get(name);
        if (t == null) {
            throw new SafetensorsFormatException(MISSING_TENSOR, path, name, "no tensor named " + Json.quote(name)
                    + " in this file" + suggestions(name));
        }
        return t;
    }

    /** Names sharing the last dotted component, to help spot prefix differences (model. vs transformer.). */
    private String suggestions(String name) {
        String last = name.substring(name.lastIndexOf('.') + 1);
        List<String> similar = header.tensors().stream().map(TensorInfo::name)
                .filter(n -> n.endsWith("." + last) || n.equals(last) || n.endsWith(name) || name.endsWith(n))
                .limit(5).collect(Collectors.toList());
        int total = header.tensors().size();
        if (!similar.isEmpty()) {
            return "; similar names: " + similar.stream().map(Json::quote).collect(Collectors.joining(", "));
        }
        return "; it has " + total + " tensor" + (total == 1 ? "" : "s")
                + (total == 0 ? "" : ", e.g. " + header.tensors().stream().limit(3).map(t -> Json.quote(t.name()))
                        .collect(Collectors.joining(", ")));
    }

    @Override
    public Path fileOf(String name) {
        return path;
    }

    @Override
    public ByteBuffer bytes(String name) {
        TensorInfo t = info(name);
        if (t.byteSize() > MappedRegions.MAX_BUFFER) {
            throw TensorReads.error(this, t, TOO_LARGE, "its " + t.byteSize() + " bytes do not fit in one Java "
                    + "buffer (2 GiB); use bytes(name, offset, length), gatherRows or gatherRowSlices to read it in parts");
        }
        return region(t, 0, t.byteSize());
    }

    @Override
    public ByteBuffer bytes(String name, long byteOffset, long byteLength) {
        TensorInfo t = info(name);
        if (byteOffset < 0 || byteLength < 0 || byteOffset > t.byteSize() - byteLength) {
            throw TensorReads.error(this, t, INDEX_OUT_OF_RANGE, "byte range [" + byteOffset + ", +" + byteLength
                    + ") is outside its " + t.byteSize() + " bytes");
        }
        if (byteLength > MappedRegions.MAX_BUFFER) {
            throw TensorReads.error(this, t, TOO_LARGE, byteLength + " bytes do not fit in one Java buffer (2 GiB)");
        }
        return region(t, byteOffset, byteLength);
    }

    private ByteBuffer region(TensorInfo t, long offset, long length) {
        if (closed) {
            throw new IllegalStateException(path + " is closed");
        }
        return regions.slice(dataOffset() + t.dataBegin() + offset, length);
    }

    /** Closes the file channel. Idempotent. */
    @Override
    public void close() {
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            throw new SafetensorsFormatException(IO, path, null, "cannot close the file: " + e, e);
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + header.tensors().size() + " tensors]";
    }
}
