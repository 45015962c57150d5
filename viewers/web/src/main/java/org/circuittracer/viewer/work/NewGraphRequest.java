package org.circuittracer.viewer.work;

import java.util.List;
import org.circuittracer.viewer.ViewerErrors;
import org.circuittracer.viewer.graph.GraphStore;

/**
 * A new graph to attribute (the CLI's {@code attribute} options).
 *
 * @param prompt           the prompt text (a special token is prepended as the reference does); or {@code null} when
 *                         {@code promptIds} or {@code chat} are given
 * @param promptIds        token ids used verbatim, or {@code null}
 * @param slug             the new graph's name
 * @param maxNLogits       most logits to attribute from
 * @param desiredLogitProb stop adding logits once their probability reaches this
 * @param maxFeatureNodes  most feature nodes (0 = all)
 * @param batchSize        rows per backward batch
 * @param nodeThreshold    node pruning threshold of the exported file
 * @param edgeThreshold    edge pruning threshold of the exported file
 * @param targets          what to explain, as {@code attribute --target} takes it ({@code TargetSpec}): tokens
 *                         ({@code Austin}, {@code #1234}) or logit differences {@code A-B}; empty = the salient logits
 *                         ({@code maxNLogits}, {@code desiredLogitProb})
 * @param chat             messages that the model's chat template turns into the prompt (as {@code attribute --chat-file}
 *                         does), or {@code null}; instead of {@code prompt} and {@code promptIds}
 */
public record NewGraphRequest(String prompt, int[] promptIds, String slug, int maxNLogits, double desiredLogitProb,
                              int maxFeatureNodes, int batchSize, double nodeThreshold, double edgeThreshold,
                              List<String> targets, List<ChatTurn> chat) {

    /** The most characters of a prompt, or of all a chat's messages together. */
    public static final int MAX_PROMPT_CHARS = 20_000;

    /** The most messages of a chat. */
    public static final int MAX_CHAT_MESSAGES = 100;

    /** A plain prompt (no chat). */
    public NewGraphRequest(String prompt, int[] promptIds, String slug, int maxNLogits, double desiredLogitProb,
                           int maxFeatureNodes, int batchSize, double nodeThreshold, double edgeThreshold,
                           List<String> targets) {
        this(prompt, promptIds, slug, maxNLogits, desiredLogitProb, maxFeatureNodes, batchSize, nodeThreshold,
                edgeThreshold, targets, null);
    }

    /** Explaining the salient logits. */
    public NewGraphRequest(String prompt, int[] promptIds, String slug, int maxNLogits, double desiredLogitProb,
                           int maxFeatureNodes, int batchSize, double nodeThreshold, double edgeThreshold) {
        this(prompt, promptIds, slug, maxNLogits, desiredLogitProb, maxFeatureNodes, batchSize, nodeThreshold,
                edgeThreshold, List.of());
    }

    public NewGraphRequest {
        if (chat != null) {
            if (prompt != null && !prompt.isBlank() || promptIds != null && promptIds.length > 0) {
                throw ViewerErrors.badRequest("Give either a chat or a prompt (prompt or promptIds), not both.");
            }
            prompt = null;
            promptIds = null;
            chat = checkedChat(chat);
        } else if ((prompt == null || prompt.isBlank()) && (promptIds == null || promptIds.length == 0)) {
            throw ViewerErrors.badRequest("Give a prompt (text), promptIds (token ids) or a chat (messages).");
        }
        if (prompt != null && prompt.length() > MAX_PROMPT_CHARS) {
            throw ViewerErrors.badRequest("The prompt has " + prompt.length() + " characters; at most "
                    + MAX_PROMPT_CHARS + ".");
        }
        GraphStore.checkSlug(slug);
        promptIds = promptIds == null ? null : promptIds.clone();
        targets = targets == null ? List.of() : targets.stream().map(String::strip).filter(t -> !t.isEmpty()).toList();
        if (targets.size() > 100) {
            throw ViewerErrors.badRequest("At most 100 targets, got " + targets.size() + ".");
        }
        range("maxNLogits", maxNLogits, 1, 1000);
        range("maxFeatureNodes", maxFeatureNodes, 0, 1_000_000);
        range("batchSize", batchSize, 1, 65_536);
        unit("desiredLogitProb", desiredLogitProb);
        unit("nodeThreshold", nodeThreshold);
        unit("edgeThreshold", edgeThreshold);
        if (desiredLogitProb == 0) {
            throw ViewerErrors.badRequest("desiredLogitProb must be above 0.");
        }
    }

    @Override
    public int[] promptIds() {
        return promptIds == null ? null : promptIds.clone();
    }

    /** Roles known, contents given, and within the limits; numbered from 1 in messages, as users count. */
    private static List<ChatTurn> checkedChat(List<ChatTurn> chat) {
        if (chat.isEmpty()) {
            throw ViewerErrors.badRequest("The chat has no message; give at least one {role, content}, e.g. a user "
                    + "message.");
        }
        if (chat.size() > MAX_CHAT_MESSAGES) {
            throw ViewerErrors.badRequest("The chat has " + chat.size() + " messages; at most " + MAX_CHAT_MESSAGES
                    + ".");
        }
        long chars = 0;
        for (int i = 0; i < chat.size(); i++) {
            ChatTurn t = chat.get(i);
            if (t == null || t.role() == null || !ChatTurn.ROLES.contains(t.role())) {
                throw ViewerErrors.badRequest("Chat message " + (i + 1) + " has the role '" + (t == null ? null
                        : t.role()) + "'; a role is one of " + String.join(", ", ChatTurn.ROLES) + ".");
            }
            if (t.content() == null || t.content().isBlank()) {
                throw ViewerErrors.badRequest("Chat message " + (i + 1) + " (" + t.role() + ") is empty; give its "
                        + "text, or leave the message out.");
            }
            chars += t.content().length();
        }
        if (chars > MAX_PROMPT_CHARS) {
            throw ViewerErrors.badRequest("The chat's messages have " + chars + " characters together; at most "
                    + MAX_PROMPT_CHARS + ".");
        }
        return List.copyOf(chat);
    }

    private static void range(String name, int v, int min, int max) {
        if (v < min || v > max) {
            throw ViewerErrors.badRequest(name + " must be in [" + min + ", " + max + "], got " + v + ".");
        }
    }

    private static void unit(String name, double v) {
        if (!(v >= 0 && v <= 1)) {
            throw ViewerErrors.badRequest(name + " must be in [0, 1], got " + v + ".");
        }
    }
}
