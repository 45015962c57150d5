/**
 * The OSGi plugin runtime: circuit-tracer's plugins as bundles on an embedded Eclipse Equinox, behind the same
 * {@link org.circuittracer.runtime.ProviderRegistry} as the class path runtime.
 *
 * <p>Layout: this package, the SPI, the runtime and {@code ai.djl:api} are on the application class path. The
 * framework's system bundle exports the SPI packages and every {@code ai.djl} package of {@code ai.djl:api}, so the
 * host and all bundles share one copy of those classes and providers found in the service registry are typed
 * ({@code AttributorProvider}, not {@code Object}). Library bundles (JDK-only helpers such as
 * {@code circuit-tracer-safetensors}) are installed at boot; plugin bundles come from a watched directory and can be
 * added, replaced and removed while the process runs.
 *
 * <ul>
 *   <li>{@link org.circuittracer.runtime.osgi.EquinoxRuntime}: boots the framework and is the registry;</li>
 *   <li>{@code ServiceLoaderRegistrar}: turns a bundle's {@code META-INF/services} providers into OSGi services;</li>
 *   <li>{@code PluginDirectoryWatcher}: installs, updates and uninstalls the jars of the plugins directory;</li>
 *   <li>{@code ServiceRegistryView}: reads providers back out of the service registry;</li>
 *   <li>{@link org.circuittracer.runtime.osgi.EquinoxLauncher}: the command line entry point.</li>
 * </ul>
 *
 * <p>The package is not exported: it runs outside the framework, on the class path.
 */
package org.circuittracer.runtime.osgi;
