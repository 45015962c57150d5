/**
 * Hook sites: named points in a transformer where activations are read, replaced, added to or frozen.
 *
 * <p>Names follow TransformerLens ({@code blocks.3.hook_resid_mid}, {@code blocks.3.ln2.hook_normalized},
 * {@code blocks.3.attn.hook_pattern}, ...) so that transcoder configurations written for the Python reference
 * name the same places. Each {@link org.circuittracer.spi.site.SiteKind} documents the shape of its tensor.
 */
@Export
@Version("2.0.0")
package org.circuittracer.spi.site;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
