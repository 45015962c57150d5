package org.circuittracer.attribution.exact;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/** Buffered little-endian writes of int and float arrays to a file, from a start position onwards. */
final class RegionWriter {
    private final FileChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 22).order(ByteOrder.LITTLE_ENDIAN);
    private long position;

    RegionWriter(FileChannel channel, long start) {
        this.channel = channel;
        this.position = start;
    }

    void putInts(int[] values, int count) throws IOException {
        for (int from = 0; from < count; ) {
            if (buffer.remaining() < 4) {
                flush();
            }
            int n = Math.min(count - from, buffer.remaining() / 4);
            buffer.asIntBuffer().put(values, from, n);
            buffer.position(buffer.position() + 4 * n);
            from += n;
        }
    }

    void putFloats(float[] values, int count) throws IOException {
        for (int from = 0; from < count; ) {
            if (buffer.remaining() < 4) {
                flush();
            }
            int n = Math.min(count - from, buffer.remaining() / 4);
            buffer.asFloatBuffer().put(values, from, n);
            buffer.position(buffer.position() + 4 * n);
            from += n;
        }
    }

    /** Where the next byte goes once everything buffered is written. */
    long end() {
        return position + buffer.position();
    }

    /** Writes what is buffered. */
    void flush() throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            position += channel.write(buffer, position);
        }
        buffer.clear();
    }
}
