/**
 * The sparse-dictionary extension point: a {@link org.circuittracer.spi.dictionary.DictionaryFormatProvider} reads a
 * {@link org.circuittracer.spi.dictionary.SparseDictionary} (per-layer transcoders, a cross-layer transcoder, or any
 * other sparse code with a linear decoder) from a directory.
 *
 * <p>Writing a dictionary plugin: implement the provider and the dictionary, list the provider in
 * {@code META-INF/services/org.circuittracer.spi.dictionary.DictionaryFormatProvider}, and extend the testkit's
 * {@code AbstractDictionaryConformanceTest}.
 */
@Export
@Version("2.0.0")
package org.circuittracer.spi.dictionary;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
