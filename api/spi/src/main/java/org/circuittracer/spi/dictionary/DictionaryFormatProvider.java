package org.circuittracer.spi.dictionary;

import org.circuittracer.spi.Provider;
import org.circuittracer.spi.SourceRecognizer;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Extension point for on-disk dictionary formats, one provider per format. Registered in
 * {@code META-INF/services/org.circuittracer.spi.dictionary.DictionaryFormatProvider}. Auto-detection asks every
 * format's {@link #recognize(java.nio.file.Path)}: answer {@code CERTAIN} only for a marker no other format has, so
 * that exactly one format is the most sure of a directory.
 */
@ConsumerType
public interface DictionaryFormatProvider extends Provider, SourceRecognizer {

    /**
     * Reads a dictionary.
     *
     * @throws org.circuittracer.spi.CircuitTracerException FILE_NOT_FOUND or MALFORMED_FILE naming the file and field
     */
    SparseDictionary create(DictionarySource source);
}
