package org.circuittracer.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lazily memory-maps byte ranges of a file, read-only.
 *
 * <p>One {@code MappedByteBuffer} holds at most 2 GiB, and mapping a whole checkpoint up front would waste
 * address space and time, so the file is mapped in overlapping windows on first touch: window {@code k}
 * covers {@code [k*H, k*H + 2H)}, so any range no longer than {@code H} lies entirely inside the window of
 * its start. Longer ranges (up to 2 GiB) get a mapping of their own. Mappings are cached for the life of the
 * file; the JDK releases them when the buffers become unreachable.
 */
final class MappedRegions {

    /** Half the window size: windows are 1 GiB, and ranges up to 512 MiB share them. */
    static final long DEFAULT_HALF_WINDOW = 1L << 29;
    /** The most bytes one ByteBuffer can hold. */
    static final long MAX_BUFFER = Integer.MAX_VALUE;

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final FileChannel channel;
    private final long fileSize;
    private final long halfWindow;
    private final ConcurrentHashMap<Long, ByteBuffer> windows = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, ByteBuffer> dedicated = new ConcurrentHashMap<>();

    MappedRegions(Path file, FileChannel channel, long fileSize, long halfWindow) {
        if (halfWindow <= 0 || 2 * halfWindow > MAX_BUFFER) {
            throw new IllegalArgumentException("half window " + halfWindow);
        }
        this.file = file;
        this.channel = channel;
        this.fileSize = fileSize;
        this.halfWindow = halfWindow;
    }

    /**
     * @param position absolute file offset; the range must lie within the file (callers validated it)
     * @param length   number of bytes, at most {@link #MAX_BUFFER}
     * @return a read-only little-endian buffer of exactly those bytes, position 0
     */
    ByteBuffer slice(long position, long length) {
        if (position < 0 || length < 0 || length > MAX_BUFFER || position > fileSize - length) {
            throw new IllegalArgumentException("range [" + position + ", +" + length + ") outside " + fileSize);
        }
        if (length == 0) {
            return EMPTY.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        }
        ByteBuffer base;
        long baseStart;
        if (length <= halfWindow) {
            long k = position / halfWindow;
            baseStart = k * halfWindow;
            base = windows.computeIfAbsent(k, key -> map(baseStart, Math.min(2 * halfWindow, fileSize - baseStart)));
        } else {
            baseStart = position;
            base = dedicated.computeIfAbsent(position, key -> map(position, length));
            if (base.capacity() < length) { // same start, longer range than cached: map it on its own
                base = map(position, length);
            }
        }
        return base.slice((int) (position - baseStart), (int) length).order(ByteOrder.LITTLE_ENDIAN);
    }

    private ByteBuffer map(long position, long size) {
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, position, size);
        } catch (IOException | RuntimeException e) {
            // e.g. ClosedChannelException, or the file shrank since it was opened
            throw new SafetensorsFormatException(SafetensorsFormatException.Kind.IO, file, null,
                    "cannot memory-map bytes [" + position + ", " + (position + size) + ") of the file (" + e
                            + "); was the file closed, truncated or replaced while open?", e);
        }
    }
}
