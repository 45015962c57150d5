package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The synthetic benchmark waits until the files it wrote are no longer mapped before it opens them again. */
class ReleaseMappingsTest {

    @Test
    void waitsUntilNoBufferMapsTheDirectoryAndSaysWhatIsStillHeld(@TempDir Path directory) throws IOException {
        assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "Linux only");
        Path file = Files.write(directory.resolve("weights.bin"), new byte[1 << 16]);
        MappedByteBuffer held = map(file);

        assertThat(SyntheticBench.releaseMappings(List.of(directory), 300)).as("a buffer still in use").isEqualTo(1);
        assertThat(held.get(0)).isZero();

        held = null;
        map(file); // mapped and dropped at once
        assertThat(SyntheticBench.releaseMappings(List.of(directory), 10_000)).isZero();
    }

    private static MappedByteBuffer map(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file)) {
            return channel.map(FileChannel.MapMode.READ_ONLY, 0, Files.size(file));
        }
    }
}
