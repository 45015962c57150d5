/**
 * The Jinja environment of chat templates: HubSpot's jinjava configured and extended to render as Hugging Face's
 * Python Jinja sandbox does. Internal to the chat bundle (not exported).
 */
package org.circuittracer.chat.jinja;
