/**
 * Attribution graph values: the {@link org.circuittracer.spi.graph.Node} family (feature, error, token, logit) and
 * the {@link org.circuittracer.spi.graph.AttributionGraph} with its sparse {@link org.circuittracer.spi.graph.EdgeMatrix}.
 * Orientation is {@code A[target, source]}: row {@code t} holds the direct effects of every node on node {@code t}.
 */
@Export
@Version("1.0.1")
package org.circuittracer.spi.graph;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
