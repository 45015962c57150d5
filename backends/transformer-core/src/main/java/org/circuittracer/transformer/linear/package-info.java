/**
 * The linearised (frozen) model and its explicit adjoint sweep on DJL's engine-neutral NDArray API: the djl backend
 * builds it from its decoder, the onnx backend from the weights its site map locates.
 *
 * <p><b>Shared by the backends.</b> Exported (OSGi) by the transformer-core library bundle for the {@code djl} and
 * {@code onnx} backend bundles; it is not part of the SPI and carries no compatibility promise beyond them.
 */
@Export
@Version("0.1.0")
package org.circuittracer.transformer.linear;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
