package org.circuittracer.chat.jinja;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps(value, ensure_ascii=False, indent=indent)}, which Hugging Face's {@code tojson} filter
 * calls: {@code ", "} and {@code ": "} separators on one line, or one item a line indented by {@code indent} spaces.
 */
final class PythonJson {

    private PythonJson() {
    }

    /** The JSON text of {@code value}; {@code indent < 0} writes one line. */
    static String dumps(Object value, int indent) {
        StringBuilder out = new StringBuilder();
        write(value, indent, 0, out);
        return out.toString();
    }

    private static void write(Object value, int indent, int depth, StringBuilder out) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof Boolean b) {
            out.append(b ? "true" : "false");
        } else if (value instanceof Number n) {
            out.append(number(n));
        } else if (value instanceof Map<?, ?> map) {
            List<Object> entries = new ArrayList<>(map.entrySet());
            container('{', '}', entries, indent, depth, out, (entry, o) -> {
                Map.Entry<?, ?> e = (Map.Entry<?, ?>) entry;
                string(String.valueOf(e.getKey()), o);
                o.append(": ");
                write(e.getValue(), indent, depth + 1, o);
            });
        } else if (value instanceof Iterable<?> items) {
            List<Object> list = new ArrayList<>();
            items.forEach(list::add);
            container('[', ']', list, indent, depth, out, (item, o) -> write(item, indent, depth + 1, o));
        } else if (value.getClass().isArray()) {
            List<Object> list = new ArrayList<>();
            for (int i = 0; i < Array.getLength(value); i++) {
                list.add(Array.get(value, i));
            }
            container('[', ']', list, indent, depth, out, (item, o) -> write(item, indent, depth + 1, o));
        } else {
            string(value.toString(), out);
        }
    }

    private interface ItemWriter {
        void write(Object item, StringBuilder out);
    }

    private static void container(char open, char close, List<Object> items, int indent, int depth, StringBuilder out,
            ItemWriter writer) {
        out.append(open);
        if (items.isEmpty()) {
            out.append(close);
            return;
        }
        for (int i = 0; i < items.size(); i++) {
            if (indent >= 0) {
                out.append(i == 0 ? "\n" : ",\n").append(" ".repeat(indent * (depth + 1)));
            } else if (i > 0) {
                out.append(", ");
            }
            writer.write(items.get(i), out);
        }
        if (indent >= 0) {
            out.append('\n').append(" ".repeat(indent * depth));
        }
        out.append(close);
    }

    private static String number(Number n) {
        if (n instanceof Double || n instanceof Float) {
            double d = n.doubleValue();
            if (Double.isNaN(d)) {
                return "NaN";
            }
            if (Double.isInfinite(d)) {
                return d > 0 ? "Infinity" : "-Infinity";
            }
            return Double.toString(d);
        }
        return n.toString();
    }

    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
