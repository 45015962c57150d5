package org.circuittracer.dashboards.files;

import java.util.Locale;

/** The two on-disk layouts of feature dashboards (docs/reference/graph-format.md §4.4-4.5). */
public enum DashboardLayout {
    /** {@code index.json.gz} and one {@code layer_<L>.bin} per layer of length-prefixed gzip records (§4.4). */
    PACKED,
    /** One {@code <z>.json} per feature that fired, {@code z} the paired feature id (§4.5). */
    JSON;

    /** The name used on the command line and in {@code dashboards.json}: {@code packed} or {@code json}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
