package org.circuittracer.safetensors;

import java.nio.file.Path;
import java.util.Objects;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCode;
import org.circuittracer.spi.StandardErrorCode;

/**
 * The one exception this package throws for unreadable input: a malformed or truncated file, a bad sharded
 * index, a missing tensor, an out-of-range read, an impossible conversion, or an I/O failure.
 *
 * <p>It is unchecked so that callers that load many tensors are not forced to wrap every read; callers that
 * want to react to specific problems switch on {@link #kind()}. The message always says what is wrong, where
 * (file, tensor name, byte offset where relevant) and how to fix it.
 */
public final class SafetensorsFormatException extends CircuitTracerException {

    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Kind {
        /** The file (or a shard, or the directory) does not exist. */
        NOT_FOUND,
        /** An operating-system I/O error: permissions, disk failure, the file changed while open. */
        IO,
        /** The file ends before the data its header describes (or before the 8-byte length prefix). */
        TRUNCATED,
        /** The 8-byte header length is 0, larger than 100,000,000, or larger than the rest of the file. */
        HEADER_LENGTH,
        /** The header is not valid UTF-8. */
        INVALID_UTF8,
        /** The header (or index) is not valid JSON, is not a JSON object, or is nested too deeply. */
        MALFORMED_JSON,
        /** A JSON object in the header has the same key twice. */
        DUPLICATE_KEY,
        /** A tensor entry is not an object, misses a field, has an unknown field, or a field of the wrong type. */
        BAD_ENTRY,
        /** A tensor's dtype is not one this package knows. */
        UNKNOWN_DTYPE,
        /** A shape is not a list of non-negative integers, has too many dimensions, or its size overflows. */
        BAD_SHAPE,
        /** {@code data_offsets} is not two non-negative integers with begin &le; end. */
        BAD_OFFSETS,
        /** A tensor's byte range does not match its dtype and shape. */
        SIZE_MISMATCH,
        /** Tensors overlap, leave gaps, or leave unused bytes at the end of the data section. */
        OVERLAPPING_OR_GAPPED_DATA,
        /** {@code __metadata__} is not an object of string values. */
        BAD_METADATA,
        /** The requested tensor does not exist (or an index names a tensor its shard lacks). */
        MISSING_TENSOR,
        /** A sharded checkpoint's {@code model.safetensors.index.json} is malformed or inconsistent. */
        BAD_INDEX,
        /** A row, column or byte range outside the tensor was requested. */
        INDEX_OUT_OF_RANGE,
        /** The tensor's dtype cannot be converted as requested (e.g. {@code readFloats} of an I64 tensor). */
        UNSUPPORTED_CONVERSION,
        /** The result would not fit in one Java array or buffer (2 GiB); read the tensor in parts instead. */
        TOO_LARGE
    }

    /** What went wrong. */
    private final Kind kind;
    /** The file concerned (not serialized: Path is not Serializable). */
    private final transient Path file;
    /** The tensor concerned, or null. */
    private final String tensorName;

    /**
     * @param kind       what went wrong
     * @param file       the file concerned, or {@code null}; it is prefixed to the message
     * @param tensorName the tensor concerned, or {@code null}
     * @param message    what is wrong and how to fix it
     */
    public SafetensorsFormatException(Kind kind, Path file, String tensorName, String message) {
        this(kind, file, tensorName, message, null);
    }

    /**
     * @param kind       what went wrong
     * @param file       the file concerned, or {@code null}; it is prefixed to the message
     * @param tensorName the tensor concerned, or {@code null}
     * @param message    what is wrong and how to fix it
     * @param cause      the underlying exception, or {@code null}
     */
    public SafetensorsFormatException(Kind kind, Path file, String tensorName, String message, Throwable cause) {
        super(errorCode(kind), file == null ? message : file + ": " + message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
        this.file = file;
        this.tensorName = tensorName;
    }

    /** The project-wide error code of a kind: bad files are the user's to fix, huge reads are a resource limit. */
    private static ErrorCode errorCode(Kind kind) {
        return switch (Objects.requireNonNull(kind, "kind")) {
            case NOT_FOUND, IO -> StandardErrorCode.FILE_NOT_FOUND;
            case INDEX_OUT_OF_RANGE, UNSUPPORTED_CONVERSION -> StandardErrorCode.INVALID_ARGUMENT;
            case TOO_LARGE -> StandardErrorCode.OUT_OF_RESOURCES;
            default -> StandardErrorCode.MALFORMED_FILE;
        };
    }

    /** @return what went wrong */
    public Kind kind() {
        return kind;
    }

    /** @return the file concerned, or {@code null} if none (e.g. an in-memory write) */
    public Path file() {
        return file;
    }

    /** @return the tensor concerned, or {@code null} if the problem is not about one tensor */
    public String tensorName() {
        return tensorName;
    }
}
