package org.circuittracer.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import picocli.CommandLine;

/**
 * {@code --chat-var NAME=VALUE}: extra variables of a chat template, typed as Python code would pass them to
 * {@code apply_chat_template(..., NAME=VALUE)}: {@code true}/{@code false} (or {@code True}/{@code False}) are
 * booleans, whole and decimal numbers are numbers, anything else is text ({@code 'quoted'} or {@code "quoted"} to keep
 * e.g. {@code "true"} as text). Templates test booleans with {@code is false}, so the string "false" would not do.
 */
final class ChatVariables {

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern INTEGER = Pattern.compile("[-+]?\\d+");
    private static final Pattern DECIMAL = Pattern.compile("[-+]?(\\d+\\.\\d*|\\.\\d+|\\d+)([eE][-+]?\\d+)?");

    /** Set by circuit-tracer itself for every prompt. */
    private static final Set<String> RESERVED = Set.of("messages", "add_generation_prompt");

    private ChatVariables() {
    }

    /** The typed variables, in the order given. */
    static Map<String, Object> parse(Map<String, String> given, CommandLine.Model.CommandSpec spec) {
        Map<String, Object> out = new LinkedHashMap<>();
        given.forEach((name, value) -> {
            if (!NAME.matcher(name).matches()) {
                throw invalid(spec, "'" + name + "' is not a template variable name; give NAME=VALUE with a name of "
                        + "letters, digits and underscores, e.g. enable_thinking=false.");
            }
            if (RESERVED.contains(name)) {
                throw invalid(spec, "'" + name + "' is set by circuit-tracer for every chat prompt; choose another "
                        + "variable.");
            }
            out.put(name, value(value));
        });
        return out;
    }

    /** One value, typed (see the class comment). */
    static Object value(String v) {
        String s = v.strip();
        if (s.equals("true") || s.equals("True")) {
            return Boolean.TRUE;
        }
        if (s.equals("false") || s.equals("False")) {
            return Boolean.FALSE;
        }
        if (s.length() >= 2 && (s.startsWith("'") && s.endsWith("'") || s.startsWith("\"") && s.endsWith("\""))) {
            return s.substring(1, s.length() - 1);
        }
        if (INTEGER.matcher(s).matches()) {
            try {
                return Integer.parseInt(s);
            } catch (NumberFormatException tooLong) {
                try {
                    return Long.parseLong(s);
                } catch (NumberFormatException evenLonger) {
                    return Double.parseDouble(s);
                }
            }
        }
        if (DECIMAL.matcher(s).matches()) {
            return Double.parseDouble(s);
        }
        return v;
    }

    private static CommandLine.ParameterException invalid(CommandLine.Model.CommandSpec spec, String why) {
        return new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '--chat-var': " + why);
    }
}
