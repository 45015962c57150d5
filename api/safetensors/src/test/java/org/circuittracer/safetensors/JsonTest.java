package org.circuittracer.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    private static Object parse(String s) throws Json.ParseException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return Json.parse(b, b.length, 100);
    }

    private static Json.ParseException error(String s) {
        return catchThrowableOfType(Json.ParseException.class, () -> parse(s));
    }

    @Test
    @SuppressWarnings("unchecked")
    void parsesValuesInDocumentOrder() throws Exception {
        Object v = parse(" {\"b\": [1, -2.5e3, true, false, null], \"a\": {\"x\": \"y\"}, \"\": \"\"}\n\t ");
        assertThat(v).isInstanceOf(Map.class);
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) v;
        assertThat(m.keySet()).containsExactly("b", "a", "");
        assertThat((List<Object>) m.get("b")).containsExactly(new Json.Num("1"), new Json.Num("-2.5e3"), true, false,
                Json.NULL);
        assertThat(Json.write(v)).isEqualTo("{\"b\":[1,-2.5e3,true,false,null],\"a\":{\"x\":\"y\"},\"\":\"\"}");
    }

    @Test
    void decodesEscapesAndUtf8() throws Exception {
        assertThat(parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00 h\u00e9llo \u4e16\u754c\""))
                .isEqualTo("a\"b\\c/d\b\f\n\r\t\u00e9\ud83d\ude00 h\u00e9llo \u4e16\u754c");
    }

    @Test
    void integersAreJudgedByTheCaller() {
        assertThat(new Json.Num("0").nonNegativeLongOrMinusOne()).isZero();
        assertThat(new Json.Num("9223372036854775807").nonNegativeLongOrMinusOne()).isEqualTo(Long.MAX_VALUE);
        assertThat(new Json.Num("9223372036854775808").nonNegativeLongOrMinusOne()).isEqualTo(-1);
        assertThat(new Json.Num("99999999999999999999").nonNegativeLongOrMinusOne()).isEqualTo(-1);
        assertThat(new Json.Num("-1").nonNegativeLongOrMinusOne()).isEqualTo(-1);
        assertThat(new Json.Num("1.0").nonNegativeLongOrMinusOne()).isEqualTo(-1);
        assertThat(new Json.Num("1e3").nonNegativeLongOrMinusOne()).isEqualTo(-1);
    }

    @Test
    void rejectsInvalidJson() {
        for (String bad : List.of("", " ", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[1 2]", "01", "1.",
                ".5", "-", "1e", "+1", "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12\"", "{a:1}", "{'a':1}", "{} x",
                "{}}", "\"tab\there\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "NaN", "Infinity",
                "\ufeff{}")) {
            Json.ParseException e = error(bad);
            assertThat(e).as("%s", bad).isNotNull();
            assertThat(e.kind).as(bad).isEqualTo(SafetensorsFormatException.Kind.MALFORMED_JSON);
        }
        assertThat(error("{\"a\":1 x}").offset).isEqualTo(7);
        assertThat(error("\"tab\there\"").getMessage()).contains("control character");
    }

    @Test
    void rejectsDuplicateKeys() {
        Json.ParseException e = error("{\"a\":1,\"b\":{\"c\":1,\"c\":2}}");
        assertThat(e.kind).isEqualTo(SafetensorsFormatException.Kind.DUPLICATE_KEY);
        assertThat(e.getMessage()).contains("\"c\"");
        assertThat(e.offset).isEqualTo(18);
    }

    @Test
    void limitsNestingWithoutOverflowingTheStack() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        assertThat(error(deep).getMessage()).contains("nested deeper than 64");
        String ok = "[".repeat(64) + "]".repeat(64);
        assertThat(error(ok)).isNull();
        assertThat(error("{\"a\":" .repeat(70) + "1" + "}".repeat(70)).getMessage()).contains("nested deeper");
    }

    @Test
    void limitsArrayLength() {
        String longArray = "[" + "0,".repeat(100) + "0]";
        assertThat(error(longArray).getMessage()).contains("more than 100 elements");
    }

    @Test
    void validatesUtf8() {
        byte[][] invalid = {
            {'"', (byte) 0xC3, '"'},                        // cut-off sequence
            {'"', (byte) 0x80, '"'},                        // lone continuation byte
            {'"', (byte) 0xC0, (byte) 0xAF, '"'},           // overlong '/'
            {'"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"'}, // encoded surrogate
            {'"', (byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80, '"'}, // beyond U+10FFFF
            {'"', (byte) 0xFF, '"'},
            {'"', (byte) 0xE2, (byte) 0x82},                // truncated at the end of input
        };
        for (byte[] b : invalid) {
            Json.ParseException e = catchThrowableOfType(Json.ParseException.class, () -> Json.parse(b, b.length, 10));
            assertThat(e.kind).isEqualTo(SafetensorsFormatException.Kind.INVALID_UTF8);
            assertThat(e.offset).isEqualTo(1);
        }
        assertThat(Json.firstInvalidUtf8("h\u00e9\u4e16\ud83d\ude00".getBytes(StandardCharsets.UTF_8), 10)).isEqualTo(-1);
    }

    @Test
    void quotesLikeSerdeJson() {
        assertThat(Json.quote("a\"b\\c\n\u0001/\u00e9\u007f")).isEqualTo("\"a\\\"b\\\\c\\n\\u0001/\u00e9\u007f\"");
    }
}
