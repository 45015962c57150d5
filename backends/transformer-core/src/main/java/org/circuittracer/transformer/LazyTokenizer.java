package org.circuittracer.transformer;

import java.nio.file.Path;
import org.circuittracer.transformer.tokenizer.HfTokenizer;

/** A model's tokenizer, opened on first use (many callers never need text) and closed with the model. */
public final class LazyTokenizer implements AutoCloseable {

    private final Path directory;
    private HfTokenizer tokenizer;

    /** @param directory the model directory holding {@code tokenizer.json} */
    public LazyTokenizer(Path directory) {
        this.directory = directory;
    }

    /** The tokenizer, opened now if this is the first call. */
    public synchronized HfTokenizer get() {
        if (tokenizer == null) {
            tokenizer = HfTokenizer.open(directory);
        }
        return tokenizer;
    }

    @Override
    public synchronized void close() {
        if (tokenizer != null) {
            tokenizer.close();
            tokenizer = null;
        }
    }
}
