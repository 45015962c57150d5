/**
 * Feature dashboards over a corpus (docs/reference/graph-format.md §4): {@link org.circuittracer.dashboards.FeatureDashboards#collect}
 * streams a {@link org.circuittracer.dashboards.Corpus} through a model and a sparse dictionary and keeps, per
 * feature, bounded state from which each {@link org.circuittracer.dashboards.FeatureDashboard} is assembled: top
 * contexts with per-token activations, quantile-band examples, percentiles, histogram, density, and top and bottom
 * output tokens. {@link org.circuittracer.dashboards.files} writes and reads them. See {@code docs/dashboards.md}.
 */
@Export
@Version("0.1.0")
package org.circuittracer.dashboards;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
