/**
 * The Hugging Face architectures the backend reads ({@code architectures} in {@code config.json}: GPT-2, Llama,
 * Gemma-2, Qwen-3) and how each turns its configuration and weights into the shared {@code decoder}.
 *
 * <p><b>Internal API.</b> Exported (OSGi) only so that the {@code onnx} backend bundle, which reuses this code, resolves
 * under {@code --osgi}; other bundles must not use it. It has no compatibility promise: the version follows the
 * backend's and may change incompatibly in any release.
 */
@Export(substitution = Export.Substitution.NOIMPORT)
@Version("0.1.0")
package org.circuittracer.backend.djl.architecture;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
