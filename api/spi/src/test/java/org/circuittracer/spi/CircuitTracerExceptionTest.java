package org.circuittracer.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.junit.jupiter.api.Test;

/** The error code survives Java serialisation (an exception thrown on a Spark executor, read by the driver). */
class CircuitTracerExceptionTest {

    @Test
    void aStandardCodeComesBackAsItself() throws Exception {
        CircuitTracerException read = roundTrip(CircuitTracerException.invalidArgument("token 9 is out of range"));
        assertThat(read.errorCode()).isSameAs(StandardErrorCode.INVALID_ARGUMENT);
        assertThat(read.category()).isEqualTo(ErrorCategory.USER_ERROR);
        assertThat(read.describe()).isEqualTo("[INVALID_ARGUMENT] token 9 is out of range");
    }

    @Test
    void aPluginsCodeKeepsItsNameAndCategory() throws Exception {
        ErrorCode custom = new ErrorCode() {
            @Override
            public String code() {
                return "SKETCH_DIVERGED";
            }

            @Override
            public ErrorCategory category() {
                return ErrorCategory.PLUGIN_ERROR;
            }
        };
        CircuitTracerException read = roundTrip(new CircuitTracerException(custom, "the sketch diverged"));
        assertThat(read.errorCode().code()).isEqualTo("SKETCH_DIVERGED");
        assertThat(read.category()).isEqualTo(ErrorCategory.PLUGIN_ERROR);
        assertThat(read.describe()).startsWith("[SKETCH_DIVERGED]");
    }

    private static CircuitTracerException roundTrip(CircuitTracerException e) throws IOException,
            ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(e);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (CircuitTracerException) in.readObject();
        }
    }
}
