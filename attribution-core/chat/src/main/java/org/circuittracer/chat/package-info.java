/**
 * Prompts for instruction-tuned models ({@code docs/chat.md}): {@link org.circuittracer.chat.ChatMessages} reads a
 * conversation ({@code --chat}, {@code --chat-file}), {@link org.circuittracer.chat.ChatTemplate} renders it with the
 * model's own Jinja chat template as Hugging Face's {@code apply_chat_template} does, and
 * {@link org.circuittracer.chat.ChatPrompt} holds the text, its tokens and the positions that belong to the template.
 */
@Export
@Version("0.1.0")
package org.circuittracer.chat;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
