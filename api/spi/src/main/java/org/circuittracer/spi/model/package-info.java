/**
 * The backend extension point: a {@link org.circuittracer.spi.model.BackendProvider} opens a
 * {@link org.circuittracer.spi.model.TransformerModel} from a directory; the model runs forward passes with
 * {@link org.circuittracer.spi.model.Hook}s at {@link org.circuittracer.spi.site.HookSite}s, linearises itself around
 * a prompt ({@link org.circuittracer.spi.model.LinearizedModel}, whose vector-Jacobian product drives attribution),
 * and generates text with a key/value cache.
 *
 * <p>Writing a backend: implement {@code BackendProvider} and {@code TransformerModel}, list the provider in
 * {@code META-INF/services/org.circuittracer.spi.model.BackendProvider}, declare its
 * {@link org.circuittracer.spi.model.BackendCapability capabilities} honestly, and extend the testkit's
 * {@code AbstractBackendConformanceTest}.
 */
@Export
@Version("2.0.0")
package org.circuittracer.spi.model;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
