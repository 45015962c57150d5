/**
 * The local replacement model (docs/reference/algorithm.md §2): a model paired with a dictionary that fits it, the special-token rule
 * and zeroed positions (§2.6), sparse feature activations, error vectors {@code e_ℓ = y_ℓ − ŷ_ℓ} and token vectors.
 */
@Export
@Version("0.1.0")
package org.circuittracer.attribution.replacement;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
