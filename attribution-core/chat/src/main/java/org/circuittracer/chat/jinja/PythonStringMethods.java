package org.circuittracer.chat.jinja;

import com.hubspot.jinjava.el.ext.NamedParameter;
import com.hubspot.jinjava.objects.collections.PyList;
import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;
import jinjava.javax.el.ELResolver;

/**
 * Python's string methods on strings ({@code content.startswith('<tool_response>')},
 * {@code content.split('</think>')[-1].lstrip('\n')}); jinjava would look for Java methods of those names and find
 * none. Resolves nothing else, so it sits in front of jinjava's own resolvers.
 */
final class PythonStringMethods extends ELResolver {

    private static final Object NOT_HANDLED = new Object();

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String text) || method == null) {
            return null;
        }
        Arguments args = new Arguments(String.valueOf(method), params);
        Object result = switch (args.method) {
            case "startswith" -> affixes(args.get(0, "prefix", null)).stream().anyMatch(text::startsWith);
            case "endswith" -> affixes(args.get(0, "suffix", null)).stream().anyMatch(text::endsWith);
            case "strip" -> PythonStrings.strip(text, args.string(0, "chars"), true, true);
            case "lstrip" -> PythonStrings.strip(text, args.string(0, "chars"), true, false);
            case "rstrip" -> PythonStrings.strip(text, args.string(0, "chars"), false, true);
            case "split" -> splitOrFail(text, args);
            case "upper" -> text.toUpperCase(Locale.ROOT);
            case "lower" -> text.toLowerCase(Locale.ROOT);
            case "replace" -> replace(text, args);
            default -> NOT_HANDLED;
        };
        if (result == NOT_HANDLED) {
            return null;
        }
        context.setPropertyResolved(true);
        return result;
    }

    private static List<String> affixes(Object value) {
        List<String> affixes = new ArrayList<>();
        if (value instanceof Iterable<?> several) {
            several.forEach(v -> affixes.add(String.valueOf(v)));
        } else if (value != null) {
            affixes.add(String.valueOf(value));
        } else {
            throw new ELException("startswith/endswith needs a string or a tuple of strings");
        }
        return affixes;
    }

    private static PyList splitOrFail(String text, Arguments args) {
        Object maxSplit = args.get(1, "maxsplit", -1);
        if (!(maxSplit instanceof Number number)) {
            throw new ELException("split: maxsplit must be an integer, not " + maxSplit);
        }
        try {
            return new PyList(new ArrayList<>(PythonStrings.split(text, args.string(0, "sep"), number.intValue())));
        } catch (IllegalArgumentException e) {
            throw new ELException("split: " + e.getMessage());
        }
    }

    private static String replace(String text, Arguments args) {
        String old = args.string(0, "old");
        String replacement = args.string(1, "new");
        if (old == null || old.isEmpty() || replacement == null) {
            throw new ELException("replace needs a non-empty old string and a new string");
        }
        Object count = args.get(2, "count", -1);
        int left = count instanceof Number n ? n.intValue() : -1;
        StringBuilder out = new StringBuilder();
        int from = 0;
        int at;
        while (left != 0 && (at = text.indexOf(old, from)) >= 0) {
            out.append(text, from, at).append(replacement);
            from = at + old.length();
            left--;
        }
        return out.append(text, from, text.length()).toString();
    }

    /** Positional and keyword arguments of one call. */
    private static final class Arguments {

        final String method;
        final List<Object> positional = new ArrayList<>();
        final Map<String, Object> named = new LinkedHashMap<>();

        Arguments(String method, Object[] params) {
            this.method = method;
            for (Object param : params == null ? new Object[0] : params) {
                if (param instanceof NamedParameter keyword) {
                    named.put(keyword.getName(), keyword.getValue());
                } else {
                    positional.add(param);
                }
            }
        }

        Object get(int position, String name, Object absent) {
            if (position < positional.size()) {
                return positional.get(position);
            }
            return named.getOrDefault(name, absent);
        }

        String string(int position, String name) {
            Object value = get(position, name, null);
            return value == null ? null : String.valueOf(value);
        }
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        // resolves no properties
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return false;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
