/**
 * Feature interventions on the replacement model (docs/reference/algorithm.md §7): {@link
 * org.circuittracer.attribution.intervention.Interventions#intervene intervened forward passes} in the four modes
 * (iterative, free, constrained, direct effects), {@link org.circuittracer.attribution.intervention.Interventions#generate
 * steered generation} next to the unsteered one, and {@link org.circuittracer.attribution.intervention.ViewerUrl
 * decoding of viewer URLs} into supernodes and pinned nodes.
 */
@Export
@Version("0.1.0")
package org.circuittracer.attribution.intervention;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
