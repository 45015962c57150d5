/**
 * circuit-tracer's own graph file: an {@link org.circuittracer.spi.graph.AttributionGraph} saved losslessly as one
 * safetensors file (arrays) with a JSON description in its {@code __metadata__}. See {@code docs/formats/graph-files.md}.
 */
@Export
@Version("0.1.0")
package org.circuittracer.attribution.graphfile;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
