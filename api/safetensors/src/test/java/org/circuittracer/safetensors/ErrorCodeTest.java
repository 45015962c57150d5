package org.circuittracer.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.circuittracer.spi.ErrorCategory;
import org.circuittracer.spi.StandardErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Safetensors failures are ordinary circuit-tracer errors, so the CLI and server map them like any other. */
class ErrorCodeTest {

    @TempDir
    Path dir;

    @Test
    void missingFileIsFileNotFound() {
        var e = catchThrowableOfType(SafetensorsFormatException.class, () -> SafetensorsFile.open(dir.resolve("x")));
        assertThat(e.errorCode()).isEqualTo(StandardErrorCode.FILE_NOT_FOUND);
        assertThat(e.category()).isEqualTo(ErrorCategory.USER_ERROR);
    }

    @Test
    void corruptFileIsMalformedFile() throws IOException {
        Path file = Files.write(dir.resolve("bad.safetensors"), new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' '});
        var e = catchThrowableOfType(SafetensorsFormatException.class, () -> SafetensorsFile.open(file));
        assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE);
        assertThat(e.describe()).startsWith("[MALFORMED_FILE] ").contains("bad.safetensors");
    }
}
