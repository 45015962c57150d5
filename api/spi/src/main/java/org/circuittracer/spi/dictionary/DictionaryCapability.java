package org.circuittracer.spi.dictionary;

import org.circuittracer.spi.Capability;

/** What a sparse dictionary offers beyond the required operations. */
public enum DictionaryCapability implements Capability {
    /** Decoder rows are gathered from memory-mapped files; the full decoder is never loaded. */
    LAZY_DECODER("gathering decoder rows lazily from memory-mapped files"),
    /** Encoder rows are gathered lazily as well. */
    LAZY_ENCODER("gathering encoder rows lazily from memory-mapped files"),
    /** Features write to the output sites of several layers (a cross-layer transcoder). */
    CROSS_LAYER("features that write to several layers"),
    /** Some output layers have a linear skip connection. */
    SKIP_CONNECTION("a linear skip connection from input to output site"),
    /** The dictionary can be written back to disk in its format. */
    WRITABLE("saving the dictionary in its format");

    private final String meaning;

    DictionaryCapability(String meaning) {
        this.meaning = meaning;
    }

    @Override
    public String meaning() {
        return meaning;
    }
}
