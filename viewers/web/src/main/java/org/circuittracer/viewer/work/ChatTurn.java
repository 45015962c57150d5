package org.circuittracer.viewer.work;

import java.util.List;

/**
 * One message of a new graph's chat, as the page sends it. A plain value: the chat template that turns the messages
 * into a prompt lives with the model (the workbench), not in the viewer.
 *
 * @param role    {@code system}, {@code user} or {@code assistant}
 * @param content the message text
 */
public record ChatTurn(String role, String content) {

    /** The roles every supported chat template understands (as the chat module's ChatMessage takes them). */
    public static final List<String> ROLES = List.of("system", "user", "assistant");
}
