/**
 * File-writing helpers shared by the exporters, the dashboards and the viewer.
 */
@Export
@Version("0.1.0")
package org.circuittracer.attribution.io;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
