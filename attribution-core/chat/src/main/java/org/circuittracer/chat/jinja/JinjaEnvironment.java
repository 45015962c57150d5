package org.circuittracer.chat.jinja;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.io.IOException;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeStore;
import jinjava.de.odysseus.el.tree.impl.Builder.Feature;
import jinjava.de.odysseus.el.tree.impl.Cache;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ExpressionFactory;
import org.circuittracer.chat.jinja.TemplateFunctions.TemplateRaisedException;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * Renders chat templates the way Hugging Face's {@code apply_chat_template} does: a Jinja environment with
 * {@code trim_blocks} and {@code lstrip_blocks}, one trailing newline of the template dropped, and the globals
 * {@code raise_exception} and {@code strftime_now}; plus the Python-isms templates rely on (string methods, slices
 * with steps, keyword arguments, Python's {@code tojson}, {@code trim} and {@code is iterable}). Any template error
 * fails the rendering: a prompt is never built from a half-rendered template.
 */
public final class JinjaEnvironment {

    /** The variable name under which {@code strftime_now is defined} holds, as it does for Hugging Face. */
    private static final String STRFTIME_NOW = "strftime_now";

    /** Far beyond any prompt; stops a runaway template (a model's file, not ours) before it fills the memory. */
    private static final long MAX_OUTPUT = 16L << 20;

    private final Jinjava jinjava;

    /** An environment whose {@code strftime_now} reads {@code clock}. */
    public JinjaEnvironment(Clock clock) {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                // jinjava drops a trailing newline of the output, Jinja one of the template source (done in render)
                .withKeepTrailingNewline(true)
                .withElResolver(resolver)
                .withMaxOutputSize(MAX_OUTPUT)
                .withDateTimeProvider(clock::millis)
                .withTimeZone(clock.getZone())
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withEvaluateMapKeys(true)
                        .withIterateOverMapKeys(true)
                        .withUsePyishObjectMapper(true)
                        .withUseNaturalOperatorPrecedence(true) // PythonSyntaxParser relies on it
                        .withParseWhitespaceControlStrictly(true)
                        .withUseTrimmingForNotesAndExpressions(true) // {{- ... -}} and {#- ... -#}
                        .withKeepNullableLoopValues(true)
                        .withHandleBackslashInQuotesOnly(true)
                        .build())
                .build();
        jinjava = new PythonJinjava(config);
        // Hugging Face's environment has no loader: a model's template may not read other files
        jinjava.setResourceLocator((name, encoding, interpreter) -> {
            throw new IOException("chat templates cannot include or import other templates ('" + name + "')");
        });
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                TemplateFunctions.class, "raiseException", Object.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", STRFTIME_NOW,
                TemplateFunctions.class, "strftimeNow", String.class));
        jinjava.getGlobalContext().put(STRFTIME_NOW, "<function strftime_now>");
        jinjava.getGlobalContext().registerFilter(new PythonFilters.Trim());
        jinjava.getGlobalContext().registerFilter(new PythonFilters.ToJson());
        jinjava.getGlobalContext().registerExpTest(new PythonFilters.Iterable());
    }

    /**
     * Renders {@code template} with {@code variables}.
     *
     * @param what names the template in error messages (e.g. "the chat template of /models/x")
     * @throws CircuitTracerException INVALID_ARGUMENT with the template's message when it calls
     *         {@code raise_exception}, MALFORMED_FILE when the template cannot be parsed or fails otherwise
     */
    public String render(String template, Map<String, ?> variables, String what) {
        Map<String, Object> bindings = new HashMap<>(variables);
        RenderResult result = jinjava.renderForResult(jinjaSource(template), bindings);
        List<TemplateError> fatal = result.getErrors().stream()
                .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL)
                .toList();
        for (TemplateError error : fatal) {
            TemplateRaisedException raised = raised(error.getException());
            if (raised != null) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, what + " refused the messages: "
                        + raised.getMessage());
            }
        }
        if (!fatal.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, what + " cannot be rendered: "
                    + fatal.stream().map(JinjaEnvironment::describe).collect(Collectors.joining("; ")));
        }
        return result.getOutput();
    }

    /** Jinja's lexer normalises line ends and drops one trailing newline (keep_trailing_newline=False). */
    static String jinjaSource(String template) {
        String source = template.replace("\r\n", "\n").replace('\r', '\n');
        return source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
    }

    private static TemplateRaisedException raised(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof TemplateRaisedException raised) {
                return raised;
            }
        }
        return null;
    }

    private static String describe(TemplateError error) {
        return "line " + error.getLineno() + ": " + error.getMessage();
    }

    /** jinjava with {@link PythonSyntaxParser} as its expression parser. */
    private static final class PythonJinjava extends Jinjava {

        private final ExpressionFactory expressions;

        PythonJinjava(JinjavaConfig config) {
            super(config);
            // the JEE6 profile jinjava's own factory uses: method calls and varargs
            PythonSyntaxParser.SyntaxBuilder builder = new PythonSyntaxParser.SyntaxBuilder(Feature.METHOD_INVOCATIONS,
                    Feature.VARARGS);
            expressions = new ExpressionFactoryImpl(new TreeStore(builder, new Cache(1000)), new TruthyTypeConverter());
        }

        @Override
        public ExpressionFactory getExpressionFactory() {
            return expressions;
        }
    }
}
