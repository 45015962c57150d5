/**
 * The engine-level decoder every architecture builds: embeddings, norms, rotary embedding, attention, MLPs, the
 * forward pass with its hook sites and the key/value cache.
 *
 * <p><b>Internal API.</b> Exported (OSGi) only so that the {@code onnx} backend bundle, which reuses this code, resolves
 * under {@code --osgi}; other bundles must not use it. It has no compatibility promise: the version follows the
 * backend's and may change incompatibly in any release.
 */
@Export(substitution = Export.Substitution.NOIMPORT)
@Version("0.1.0")
package org.circuittracer.backend.djl.decoder;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
