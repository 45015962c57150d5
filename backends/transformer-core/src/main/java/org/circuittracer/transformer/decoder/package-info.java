/**
 * The decoder every architecture builds, on DJL's engine-neutral NDArray API: embeddings, norms, rotary embedding,
 * attention, MLPs, the forward pass with its hook sites and the key/value cache. The djl backend runs it; the onnx
 * exporter translates it into a graph.
 *
 * <p><b>Shared by the backends.</b> Exported (OSGi) by the transformer-core library bundle for the {@code djl} and
 * {@code onnx} backend bundles; it is not part of the SPI and carries no compatibility promise beyond them.
 */
@Export
@Version("0.1.0")
package org.circuittracer.transformer.decoder;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
