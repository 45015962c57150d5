/**
 * The fuzz harness of circuit-tracer: {@link org.circuittracer.testkit.fuzz.Fuzzer} runs a parser on seeded
 * mutations of valid inputs and checks that each either loads or fails with a
 * {@link org.circuittracer.spi.CircuitTracerException} (never another exception, a hang, an
 * {@code OutOfMemoryError}, or a file written outside its directory). See docs/develop/fuzzing.md.
 */
@Export
@Version("1.0.0")
package org.circuittracer.testkit.fuzz;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
