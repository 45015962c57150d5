package org.circuittracer.transcoders.nativeformat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * Writes one safetensors file of F32 tensors whose data arrives in chunks, so that no tensor is ever whole in memory:
 * the header (names, shapes, contiguous offsets in declaration order) is written first, then the data as it comes.
 * The file appears atomically at {@link #finish()}; {@link #close()} without it leaves nothing behind. The checksums
 * of the manifest are computed on the way.
 */
final class StreamingSafetensorsWriter implements AutoCloseable {

    /** A tensor to come: its name (ASCII letters, digits, {@code _}) and shape. */
    record Declared(String name, long[] shape) {
        Declared {
            if (!name.matches("[A-Za-z0-9_]+")) {
                throw new IllegalArgumentException("tensor names here are plain identifiers, got " + name);
            }
            shape = shape.clone();
        }

        long bytes() {
            return Arrays.stream(shape).reduce(1, Math::multiplyExact) * Float.BYTES;
        }
    }

    private final Path target;
    private final Path temporary;
    private final FileChannel channel;
    private final List<Declared> tensors;
    private final String headerSha256;
    private final CRC32C crc = new CRC32C();
    private long size;
    private int current;
    private long remaining;
    private boolean finished;

    private StreamingSafetensorsWriter(Path target, Path temporary, FileChannel channel, List<Declared> tensors,
                                       String headerSha256) {
        this.target = target;
        this.temporary = temporary;
        this.channel = channel;
        this.tensors = List.copyOf(tensors);
        this.headerSha256 = headerSha256;
        this.remaining = tensors.isEmpty() ? 0 : tensors.get(0).bytes();
    }

    /** Starts {@code target}, writing the header of {@code tensors} (in this order) into a temporary file beside it. */
    static StreamingSafetensorsWriter create(Path target, List<Declared> tensors) {
        byte[] header = header(tensors);
        Path temporary = target.resolveSibling("." + target.getFileName() + ".tmp");
        try {
            FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
            StreamingSafetensorsWriter writer = new StreamingSafetensorsWriter(target, temporary, channel, tensors,
                    HexFormat.of().formatHex(sha256(header)));
            writer.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length));
            writer.write(ByteBuffer.wrap(header));
            return writer;
        } catch (IOException e) {
            throw cannotWrite(target, e);
        }
    }

    /** The safetensors header: compact JSON padded with spaces to a multiple of 8 bytes. */
    private static byte[] header(List<Declared> tensors) {
        StringBuilder json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (Declared t : tensors) {
            long end = offset + t.bytes();
            json.append(",\"").append(t.name()).append("\":{\"dtype\":\"F32\",\"shape\":")
                    .append(Arrays.toString(t.shape()).replace(" ", "")).append(",\"data_offsets\":[").append(offset)
                    .append(',').append(end).append("]}");
            offset = end;
        }
        json.append('}');
        while (json.length() % 8 != 0) {
            json.append(' ');
        }
        return json.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Appends the next {@code values.length} elements: tensors are filled in declaration order, row-major, and a chunk
     * may span several tensors.
     */
    void append(float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        long length = bytes.remaining();
        while (length > 0) {
            if (current >= tensors.size()) {
                throw new IllegalStateException("more data than the declared tensors hold");
            }
            long taken = Math.min(length, remaining);
            remaining -= taken;
            length -= taken;
            if (remaining == 0 && ++current < tensors.size()) {
                remaining = tensors.get(current).bytes();
            }
        }
        try {
            write(bytes);
        } catch (IOException e) {
            throw cannotWrite(target, e);
        }
    }

    /** Checks that every declared byte came, makes the file durable and moves it into place; returns its checksums. */
    Manifest.FileChecksum finish() {
        if (current < tensors.size()) {
            throw new IllegalStateException("tensor " + tensors.get(current).name() + " is missing " + remaining
                    + " bytes");
        }
        try {
            channel.force(true);
            channel.close();
            try {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw cannotWrite(target, e);
        }
        finished = true;
        return new Manifest.FileChecksum(size, headerSha256, crc32c(crc));
    }

    @Override
    public void close() {
        if (finished) {
            return;
        }
        try {
            channel.close();
            Files.deleteIfExists(temporary);
        } catch (IOException ignored) {
            // best effort: the failure that got us here matters more
        }
    }

    private void write(ByteBuffer bytes) throws IOException {
        crc.update(bytes.duplicate());
        size += bytes.remaining();
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }

    static String crc32c(CRC32C crc) {
        return String.format("%08x", crc.getValue());
    }

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    private static CircuitTracerException cannotWrite(Path target, IOException e) {
        return new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot write " + target + ": " + e, e);
    }
}
