/**
 * Attention in the circuit (docs/attention.md): how the edges of an attribution graph split over the
 * attention heads that carry them ({@link org.circuittracer.attribution.attention.HeadLoadingPass}), computed by the
 * backend's linearised model ({@code LinearizedModel.headLoadings}).
 */
@Export
@Version("0.1.0")
package org.circuittracer.attribution.attention;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
