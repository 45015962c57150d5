/**
 * Crash-safety testing: {@link org.circuittracer.testkit.crash.KillLoop} kills a child JVM that writes files in a
 * loop ({@code kill -9}, at seeded random points of its writes) and lets the test check the files after every kill.
 * See docs/reliability.md.
 */
@Export
@Version("1.0.0")
package org.circuittracer.testkit.crash;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
