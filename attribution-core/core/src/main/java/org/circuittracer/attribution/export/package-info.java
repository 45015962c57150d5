/**
 * Export of a pruned attribution graph to the viewer's graph JSON ({@code <slug>.json}) and the graph index
 * ({@code graph-metadata.json}), as docs/reference/graph-format.md §2-3 specifies; compatible with the reference viewer and
 * Neuronpedia's graph schema. The only core package (with {@code graphfile}) that uses Jackson.
 */
@Export
@Version("0.1.0")
package org.circuittracer.attribution.export;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
