package org.circuittracer.spi.dictionary;

import java.nio.file.Path;
import org.circuittracer.spi.Provider;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Extension point for on-disk dictionary formats, one provider per format. Registered in
 * {@code META-INF/services/org.circuittracer.spi.dictionary.DictionaryFormatProvider}.
 */
@ConsumerType
public interface DictionaryFormatProvider extends Provider {

    /**
     * Whether {@code directory} looks like this format (cheap: file names and small configuration files only). Used for
     * auto-detection; exactly one provider should recognise a directory.
     */
    boolean recognizes(Path directory);

    /**
     * Reads a dictionary.
     *
     * @throws org.circuittracer.spi.CircuitTracerException FILE_NOT_FOUND or MALFORMED_FILE naming the file and field
     */
    SparseDictionary create(DictionarySource source);
}
