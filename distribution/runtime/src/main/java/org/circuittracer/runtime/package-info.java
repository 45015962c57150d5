/**
 * The plugin runtime: finds {@link org.circuittracer.spi.Provider}s and hands them to the command line and the
 * server. {@link org.circuittracer.runtime.ClasspathProviderRegistry} uses {@link java.util.ServiceLoader} on the
 * class path and on every jar in a {@code plugins/} directory (each jar in its own class loader); the Equinox launcher
 * offers the same {@link org.circuittracer.runtime.ProviderRegistry} over the OSGi service registry.
 */
@Export
@Version("1.0.0")
package org.circuittracer.runtime;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
