/**
 * The attributor {@code exact} (docs/reference/algorithm.md §3): exact direct effects from the backend's vector-Jacobian products,
 * one lane per target. Private to the bundle: reach it through
 * {@link org.circuittracer.spi.attribution.AttributorProvider} named {@code exact}.
 */
package org.circuittracer.attribution.exact;
