/**
 * Conformance kits: abstract JUnit 5 test classes that a plugin's own tests extend in a few lines.
 *
 * <p>{@link org.circuittracer.testkit.AbstractProviderConformanceTest} checks what every provider must satisfy
 * (valid name, registration in {@code META-INF/services}, stateless construction); the per-extension-point provider
 * kits add the rules of their interface. Three kits check the created objects on real inputs:
 * {@link org.circuittracer.testkit.AbstractBackendConformanceTest} (hooks, the VJP against perturbations of the frozen
 * forward pass, cached generation), {@link org.circuittracer.testkit.AbstractDictionaryConformanceTest} (sparse
 * equals dense, decode equals the reconstruction, lazy equals eager, save/load round trips) and
 * {@link org.circuittracer.testkit.AbstractAttributorConformanceTest} (every sampled edge equals the effect of
 * perturbing its source in the frozen replacement model; graph structure; determinism; progress and cancellation). Example, for a dictionary
 * format:
 * <pre>{@code
 * class MyFormatConformanceTest extends AbstractDictionaryFormatConformanceTest {
 *     @Override protected DictionaryFormatProvider provider() { return new MyFormatProvider(); }
 * }
 * }</pre>
 */
@Export
@Version("1.0.0")
package org.circuittracer.testkit;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
