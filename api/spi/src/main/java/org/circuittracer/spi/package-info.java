/**
 * The circuit-tracer service provider interface: the stable contract between the runtime and its plugins.
 *
 * <p>There are three extension points, each a {@link org.circuittracer.spi.Provider} subtype registered in
 * {@code META-INF/services}:
 * <ul>
 *   <li>{@link org.circuittracer.spi.model.BackendProvider}: opens a language model from a directory and runs it
 *       with hooks, frozen nonlinearities, vector-Jacobian products and generation;</li>
 *   <li>{@link org.circuittracer.spi.dictionary.DictionaryFormatProvider}: reads a sparse dictionary (per-layer or
 *       cross-layer transcoder, or another sparse code) from a directory;</li>
 *   <li>{@link org.circuittracer.spi.attribution.AttributorProvider}: computes attribution graphs.</li>
 * </ul>
 *
 * <p>This package and its sub-packages depend only on the JDK and {@code ai.djl:api}. Tensors cross the SPI as
 * engine-neutral {@link ai.djl.ndarray.NDArray}s; every method that returns one takes the
 * {@link ai.djl.ndarray.NDManager} that will own it, and the caller closes that manager.
 *
 * <p>Errors: every failure a user can act on is a {@link org.circuittracer.spi.CircuitTracerException} with an
 * {@link org.circuittracer.spi.ErrorCode}; its message says what was wrong and how to fix it.
 */
@Export
@Version("1.1.0")
package org.circuittracer.spi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
