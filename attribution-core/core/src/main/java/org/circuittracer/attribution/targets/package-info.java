/** Attribution targets (docs/reference/algorithm.md §3.7): salient logits, token ids, token strings and custom directions. */
@Export
@Version("0.1.0")
package org.circuittracer.attribution.targets;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
