package org.circuittracer.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.BAD_ENTRY;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.BAD_METADATA;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.BAD_OFFSETS;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.BAD_SHAPE;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.DUPLICATE_KEY;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.HEADER_LENGTH;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.INVALID_UTF8;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.MALFORMED_JSON;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.MISSING_TENSOR;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.NOT_FOUND;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.OVERLAPPING_OR_GAPPED_DATA;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.SIZE_MISMATCH;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.TRUNCATED;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.UNKNOWN_DTYPE;
import static org.circuittracer.safetensors.TestSupport.rejected;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One test per validation rule: the kind, and a message that names the problem, the place and the fix. */
class MalformedFilesTest {

    @TempDir
    Path dir;
    private int counter;

    private Path file(byte[] content) {
        return TestSupport.write(dir, "f" + counter++ + ".safetensors", content);
    }

    private Path file(String header, int dataBytes) {
        return file(TestSupport.raw(header, new byte[dataBytes]));
    }

    private static String entry(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    // ------------------------------------------------------------ the 8-byte prefix

    @Test
    void fileShorterThanTheLengthPrefix() {
        rejected(file(new byte[] {1, 0, 0}), TRUNCATED, "3 bytes", "fewer than the 8-byte header length");
        rejected(file(new byte[0]), TRUNCATED, "0 bytes");
    }

    @Test
    void headerLengthZero() {
        rejected(file(TestSupport.raw(0, new byte[0], new byte[16])), HEADER_LENGTH, "is 0");
    }

    @Test
    void headerLengthAboveTheFormatLimit() {
        rejected(file(TestSupport.raw(100_000_001L, "{}".getBytes(StandardCharsets.UTF_8), new byte[0])),
                HEADER_LENGTH, "100000001", "limit of 100000000");
        // u64 values above 2^63 are reported unsigned, not as negative numbers
        rejected(file(TestSupport.raw(-1L, "{}".getBytes(StandardCharsets.UTF_8), new byte[0])), HEADER_LENGTH,
                "18446744073709551615");
    }

    @Test
    void headerLengthBeyondTheEndOfTheFile() {
        // 99,999,999 claimed, 2 present: refused before anything is allocated
        rejected(file(TestSupport.raw(99_999_999L, "{}".getBytes(StandardCharsets.UTF_8), new byte[0])),
                HEADER_LENGTH, "99999999", "only 2 bytes follow", "truncated");
    }

    @Test
    void recognisesFilesThatAreNotSafetensors() {
        rejected(file("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n"
                .getBytes(StandardCharsets.UTF_8)), HEADER_LENGTH, "Git LFS pointer", "git lfs pull");
        rejected(file(new byte[] {'P', 'K', 3, 4, 20, 0, 0, 0, 8, 0, 0, 0}), HEADER_LENGTH, "zip");
        rejected(file("<!DOCTYPE html><html>Not Found</html>".getBytes(StandardCharsets.UTF_8)), HEADER_LENGTH, "HTML");
    }

    // ------------------------------------------------------------ JSON

    @Test
    void headerNotUtf8() {
        byte[] header = "{\"a\u00ff\":{}}".getBytes(StandardCharsets.ISO_8859_1);
        rejected(file(TestSupport.raw(header.length, header, new byte[0])), INVALID_UTF8, "UTF-8", "0xFF",
                "header byte 3", "file byte 11");
    }

    @Test
    void headerNotJson() {
        rejected(file("{\"a\":{\"dtype\":\"F32\",}}", 0), MALFORMED_JSON, "not valid JSON", "header byte 20",
                "expected a string key", "re-download");
        rejected(file("garbage!", 0), MALFORMED_JSON, "not valid JSON");
        rejected(file("{}x", 0), MALFORMED_JSON, "after the end of the JSON value");
        rejected(file("{\"a\":\"\\ud800\"}", 0), MALFORMED_JSON, "unpaired surrogate");
        rejected(file("{\"a\nb\":{}}", 0), MALFORMED_JSON, "control character");
    }

    @Test
    void headerNotAnObject() {
        rejected(file("[1,2]   ", 0), MALFORMED_JSON, "must be a JSON object", "an array");
        rejected(file("\"x\"", 0), MALFORMED_JSON, "a string");
    }

    @Test
    void deeplyNestedJson() {
        String deep = "{\"a\":" + "[".repeat(50_000) + "]".repeat(50_000) + "}";
        rejected(file(deep, 0), MALFORMED_JSON, "nested deeper than 64");
    }

    @Test
    void duplicateKeys() {
        String e = entry("a", "F32", "[1]", "[0,4]");
        rejected(file("{" + e + "," + e.replace("[0,4]", "[4,8]") + "}", 8), DUPLICATE_KEY, "duplicate key \"a\"",
                "unique");
        rejected(file("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                DUPLICATE_KEY, "\"dtype\"");
    }

    // ------------------------------------------------------------ entries

    @Test
    void entryNotAnObject() {
        rejected(file("{\"a\":[1,2]}", 0), BAD_ENTRY, "tensor \"a\"", "must be an object", "an array");
    }

    @Test
    void missingField() {
        rejected(file("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), BAD_ENTRY, "tensor \"a\"",
                "missing field \"shape\"");
    }

    @Test
    void unknownField() {
        rejected(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"offsets\":[0,4]}}", 4),
                BAD_ENTRY, "unknown field \"offsets\"");
    }

    @Test
    void dtypeNotAString() {
        rejected(file("{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4), BAD_ENTRY,
                "\"dtype\" must be a string", "a number");
    }

    @Test
    void unknownDtype() {
        SafetensorsFormatException e = rejected(file("{" + entry("w", "F33", "[1]", "[0,4]") + "}", 4), UNKNOWN_DTYPE,
                "tensor \"w\"", "\"F33\"", "known dtypes are", "BF16");
        assertThat(e.tensorName()).isEqualTo("w");
    }

    @Test
    void shapeNotAListOfNonNegativeIntegers() {
        rejected(file("{" + entry("a", "F32", "4", "[0,16]") + "}", 16), BAD_SHAPE, "tensor \"a\"", "must be a list");
        rejected(file("{" + entry("a", "F32", "[2,-2]", "[0,16]") + "}", 16), BAD_SHAPE, "dimension 1 is -2");
        rejected(file("{" + entry("a", "F32", "[1.5]", "[0,4]") + "}", 4), BAD_SHAPE, "dimension 0 is 1.5");
        rejected(file("{" + entry("a", "F32", "[1e2]", "[0,400]") + "}", 400), BAD_SHAPE, "1e2");
        rejected(file("{" + entry("a", "F32", "[\"4\"]", "[0,16]") + "}", 16), BAD_SHAPE, "\"4\"");
        rejected(file("{" + entry("a", "F32", "[99999999999999999999]", "[0,4]") + "}", 4), BAD_SHAPE,
                "99999999999999999999");
    }

    @Test
    void shapeWhoseSizeOverflows() {
        rejected(file("{" + entry("a", "F32", "[4294967296,4294967296]", "[0,4]") + "}", 4), BAD_SHAPE,
                "64-bit");
        rejected(file("{" + entry("a", "F64", "[2305843009213693952]", "[0,8]") + "}", 8), BAD_SHAPE, "64-bit");
    }

    @Test
    void tooManyDimensions() {
        rejected(file("{" + entry("a", "F32", "[" + "1,".repeat(64) + "1]", "[0,4]") + "}", 4), BAD_SHAPE,
                "65 dimensions", "at most 64");
    }

    @Test
    void dataOffsetsNotTwoNonNegativeIntegers() {
        rejected(file("{" + entry("a", "F32", "[1]", "[0,4,8]") + "}", 4), BAD_OFFSETS, "two integers",
                "a list of 3 elements");
        rejected(file("{" + entry("a", "F32", "[1]", "{}") + "}", 4), BAD_OFFSETS, "an object");
        rejected(file("{" + entry("a", "F32", "[1]", "[-4,0]") + "}", 4), BAD_OFFSETS, "[-4,0]");
        rejected(file("{" + entry("a", "F32", "[1]", "[0,9223372036854775808]") + "}", 4), BAD_OFFSETS,
                "between 0 and 2^63-1");
    }

    @Test
    void dataOffsetsEndBeforeTheyBegin() {
        rejected(file("{" + entry("a", "F32", "[0]", "[4,0]") + "}", 4), BAD_OFFSETS, "[4, 0] ends before it begins");
    }

    @Test
    void byteRangeDoesNotMatchDtypeAndShape() {
        SafetensorsFormatException e = rejected(file("{" + entry("w", "F32", "[2,3]", "[0,20]") + "}", 20),
                SIZE_MISMATCH, "tensor \"w\"", "need 24 bytes", "cover 20 bytes", "file bytes");
        assertThat(e.tensorName()).isEqualTo("w");
    }

    @Test
    void truncatedData() {
        String header = "{" + entry("w", "F32", "[2,3]", "[0,24]") + "}";
        long fileSize = 8 + header.length() + 20;
        rejected(file(header, 20), TRUNCATED, "the file is truncated", "ends at data byte 24",
                "only 20 bytes", "the file has " + fileSize, "re-download or re-export");
        // a huge claimed tensor in a tiny file: refused without allocating or mapping anything
        long huge = 1L << 42;
        rejected(file("{" + entry("w", "F32", "[" + (huge / 4) + "]", "[0," + huge + "]") + "}", 0), TRUNCATED,
                "truncated");
    }

    @Test
    void overlappingTensors() {
        rejected(file("{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[2]", "[4,12]") + "}", 12),
                OVERLAPPING_OR_GAPPED_DATA, "tensor \"b\"", "overlaps tensor \"a\"");
        // two tensors sharing the same bytes
        rejected(file("{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "I32", "[2]", "[0,8]") + "}", 8),
                OVERLAPPING_OR_GAPPED_DATA, "overlaps");
    }

    @Test
    void gapBetweenTensors() {
        rejected(file("{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[1]", "[8,12]") + "}", 12),
                OVERLAPPING_OR_GAPPED_DATA, "data bytes [4, 8)", "before tensor \"b\"", "belong to no tensor");
        rejected(file("{" + entry("b", "F32", "[1]", "[4,8]") + "}", 8), OVERLAPPING_OR_GAPPED_DATA, "[0, 4)");
    }

    @Test
    void trailingBytesAfterTheLastTensor() {
        rejected(file("{" + entry("a", "F32", "[1]", "[0,4]") + "}", 10), OVERLAPPING_OR_GAPPED_DATA,
                "6 bytes at the end of the file", "appended");
        rejected(file("{}", 1), OVERLAPPING_OR_GAPPED_DATA, "1 bytes");
    }

    @Test
    void metadataNotAnObjectOfStrings() {
        rejected(file("{\"__metadata__\":[\"pt\"]}", 0), BAD_METADATA, "must be an object of string values");
        rejected(file("{\"__metadata__\":{\"format\":\"pt\",\"step\":100}}", 0), BAD_METADATA, "\"step\"",
                "a number", "must be strings");
    }

    // ------------------------------------------------------------ the file itself

    @Test
    void missingFileAndDirectory() {
        rejected(dir.resolve("absent.safetensors"), NOT_FOUND, "no such file");
        rejected(dir, NOT_FOUND, "is a directory", "ShardedCheckpoint");
    }

    @Test
    void missingTensorSuggestsSimilarNames() {
        Path p = file(TestSupport.raw("{" + entry("transformer.wte.weight", "F32", "[1]", "[0,4]") + "}",
                new byte[4]));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            SafetensorsFormatException e = org.assertj.core.api.Assertions.catchThrowableOfType(
                    SafetensorsFormatException.class, () -> f.info("wte.weight"));
            assertThat(e.kind()).isEqualTo(MISSING_TENSOR);
            assertThat(e.getMessage()).contains("no tensor named \"wte.weight\"", "similar names",
                    "\"transformer.wte.weight\"");
        }
    }

    // ------------------------------------------------------------ what must be accepted

    @Test
    void acceptsValidEdgeCases() {
        String header = " \n{\"__metadata__\":null,"
                + entry("later", "F32", "[1]", "[4,8]") + ","     // header order is not data order
                + entry("empty", "F16", "[0,3]", "[4,4]") + ","   // zero-size tensor
                + entry("first", "U8", "[]", "[0,1]") + ","       // scalar
                + entry("pad", "U8", "[3]", "[1,4]") + "}\t\r\n    ";
        Path p = file(header, 8);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.metadata()).isEqualTo(Map.of());
            assertThat(f.names()).containsExactly("later", "empty", "first", "pad");
            assertThat(f.readFloats("later")).containsExactly(0f);
            assertThat(f.readFloats("empty")).isEmpty();
            assertThat(f.readInts("first")).containsExactly(0);
        }
        try (SafetensorsFile f = SafetensorsFile.open(file("{}", 0))) {
            assertThat(f.names()).isEmpty();
        }
    }
}
