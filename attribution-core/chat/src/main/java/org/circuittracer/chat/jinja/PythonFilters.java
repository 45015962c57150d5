package org.circuittracer.chat.jinja;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.AdvancedFilter;
import java.util.Map;

/** Filters and tests whose Jinja (Python) behaviour differs from jinjava's built-ins of the same name. */
final class PythonFilters {

    private PythonFilters() {
    }

    /** {@code value | trim}: Python's {@code str.strip()}, which knows Unicode whitespace. */
    static final class Trim implements AdvancedFilter {

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object chars = args.length > 0 ? args[0] : kwargs.get("chars");
            return PythonStrings.strip(var == null ? "" : var.toString(), chars == null ? null : chars.toString(),
                    true, true);
        }

        @Override
        public String getName() {
            return "trim";
        }
    }

    /** {@code value | tojson(indent=4)} as Hugging Face defines it: Python's {@code json.dumps}. */
    static final class ToJson implements AdvancedFilter {

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = args.length > 0 ? args[0] : kwargs.get("indent");
            return PythonJson.dumps(var, indent instanceof Number n ? n.intValue() : -1);
        }

        @Override
        public String getName() {
            return "tojson";
        }
    }

    /** {@code value is iterable}: true for strings and mappings too, as in Python. */
    static final class Iterable implements ExpTest {

        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return var instanceof CharSequence || var instanceof java.lang.Iterable<?> || var instanceof Map<?, ?>
                    || (var != null && var.getClass().isArray());
        }

        @Override
        public String getName() {
            return "iterable";
        }
    }
}
