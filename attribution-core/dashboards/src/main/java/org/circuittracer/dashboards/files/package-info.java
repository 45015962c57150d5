/**
 * Dashboard files in both layouts of docs/reference/graph-format.md §4: packed ({@code index.json.gz} and {@code layer_<L>.bin},
 * §4.4) and per-feature JSON ({@code <z>.json}, §4.5), with the manifest {@code dashboards.json};
 * {@link org.circuittracer.dashboards.files.DashboardWriter} writes them atomically and
 * {@link org.circuittracer.dashboards.files.DashboardReader} reads them (ours and other writers' packed directories).
 */
@Export
@Version("0.1.0")
package org.circuittracer.dashboards.files;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
