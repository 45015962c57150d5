package org.circuittracer.chat.jinja;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.Locale;

/**
 * The global functions Hugging Face gives chat templates. Public static methods because jinjava binds functions to
 * static methods by reflection.
 */
public final class TemplateFunctions {

    private TemplateFunctions() {
    }

    /** {@code raise_exception(message)}: ends rendering with the template's own message. */
    public static Object raiseException(Object message) {
        throw new TemplateRaisedException(String.valueOf(message));
    }

    /**
     * {@code strftime_now(format)}: the current date and time (of the renderer's clock) in Python's strftime format,
     * with English month and day names (Python's default C locale).
     */
    public static String strftimeNow(String format) {
        JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
        Instant now = Instant.ofEpochMilli(interpreter.getConfig().getDateTimeProvider().getCurrentTimeMillis());
        return StrftimeFormatter.format(ZonedDateTime.ofInstant(now, interpreter.getConfig().getTimeZone()), format,
                Locale.ENGLISH);
    }

    /** What {@code raise_exception} throws; carries the template's message to {@link JinjaEnvironment}. */
    static final class TemplateRaisedException extends RuntimeException {

        private static final long serialVersionUID = 1L;

        TemplateRaisedException(String message) {
            super(message);
        }
    }
}
