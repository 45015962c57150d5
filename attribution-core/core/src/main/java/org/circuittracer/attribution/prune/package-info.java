/**
 * Influence, pruning and graph scores on the sparse graph (docs/reference/algorithm.md §5). No dense {@code N × N} matrix is built:
 * influence is the power series {@code Σ_k w·Âᵏ} evaluated by sparse row scatters, which ends after at most the
 * longest path because the graph is acyclic.
 */
@Export
@Version("0.1.0")
package org.circuittracer.attribution.prune;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
