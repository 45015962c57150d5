package org.circuittracer.spi;

import java.nio.file.Path;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A provider that can say whether it opens a directory (backends: a model directory; dictionary formats: a
 * dictionary directory). The one way providers answer "can you open this?": the runtime asks every installed one and
 * ranks the answers.
 */
@ConsumerType
public interface SourceRecognizer {

    /**
     * How sure this provider is that it can open {@code directory}, with the reason. Cheap: file names and small
     * configuration files only, never weights. Never throws for a missing or odd directory: that is
     * {@link Recognition#none(String)} with the reason.
     */
    Recognition recognize(Path directory);
}
