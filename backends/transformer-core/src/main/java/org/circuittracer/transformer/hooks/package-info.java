/**
 * Hooks of a forward pass: their checks (sites, positions, shapes) with one wording for every backend, the plan that
 * applies them to NDArrays, and the shape of the tensor at each site kind.
 *
 * <p><b>Shared by the backends.</b> Exported (OSGi) by the transformer-core library bundle for the {@code djl} and
 * {@code onnx} backend bundles; it is not part of the SPI and carries no compatibility promise beyond them.
 */
@Export
@Version("0.1.0")
package org.circuittracer.transformer.hooks;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
