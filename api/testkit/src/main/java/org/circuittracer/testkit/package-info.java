/**
 * Conformance kits: abstract JUnit 5 test classes that a plugin's own tests extend in a few lines.
 *
 * <p>{@link org.circuittracer.testkit.AbstractProviderConformanceTest} checks what every provider must satisfy
 * (valid name, registration in {@code META-INF/services}, stateless construction); the per-extension-point kits add
 * the rules of their interface. Example, for a dictionary format:
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
