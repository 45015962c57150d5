/**
 * The attributor extension point: an {@link org.circuittracer.spi.attribution.AttributorProvider} creates an
 * {@link org.circuittracer.spi.attribution.Attributor} that turns a model, a dictionary and a prompt into an
 * {@link org.circuittracer.spi.graph.AttributionGraph}, reporting progress and honouring cancellation through an
 * {@link org.circuittracer.spi.attribution.AttributionListener}.
 */
@Export
@Version("2.0.0")
package org.circuittracer.spi.attribution;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
