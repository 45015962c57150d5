package org.circuittracer.chat;

import java.util.List;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * One message of a conversation, as chat templates receive it ({@code {"role": ..., "content": ...}}).
 *
 * @param role {@code system}, {@code user} or {@code assistant}
 * @param content the message text (may be empty, never null)
 */
public record ChatMessage(String role, String content) {

    /** The roles every chat template of the supported families understands. */
    public static final List<String> ROLES = List.of("system", "user", "assistant");

    public ChatMessage {
        if (role == null || !ROLES.contains(role)) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Unknown chat role '" + role
                    + "'; a message's role is one of " + String.join(", ", ROLES) + ".");
        }
        if (content == null) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The " + role
                    + " message has no content; give its text as \"content\".");
        }
    }

    /** A user message. */
    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    /** A system message. */
    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    /** An assistant message. */
    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }
}
