/**
 * <b>Test fixture</b>, not a real plugin: the smallest bundle that contributes a provider, used by the tests of the
 * plugin runtimes (class path and Equinox) to prove that a separately built jar is discovered, typed through the
 * shared SPI, hot-deployed and removed. It is never shipped.
 *
 * <p>{@link org.circuittracer.testplugin.TestFixtureAttributorProvider} is registered for both worlds from one
 * annotation: bnd writes {@code META-INF/services/org.circuittracer.spi.attribution.AttributorProvider} (plain
 * {@link java.util.ServiceLoader}) and an {@code osgi.serviceloader} capability whose registrar requirement is
 * optional, so the bundle resolves on a bare Equinox; circuit-tracer's own registrar reads the services file there.
 * The package is private (not exported): other bundles reach the provider only through the service registry.
 */
package org.circuittracer.testplugin;
