package org.circuittracer.hub;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * What was asked for is not (completely) in the local Hugging Face cache: a {@code FILE_NOT_FOUND}
 * {@link CircuitTracerException} whose message says where the cache was searched and ends with the line that fetches
 * what is missing ({@link #downloadCommand()}).
 */
public final class NotCachedException extends CircuitTracerException {

    private static final long serialVersionUID = 1L;

    private final transient RepoRef ref;
    private final String downloadCommand;

    NotCachedException(RepoRef ref, String what, String downloadCommand) {
        super(StandardErrorCode.FILE_NOT_FOUND, what + " Nothing is downloaded at run time; fetch it once with:\n  "
                + downloadCommand);
        this.ref = ref;
        this.downloadCommand = downloadCommand;
    }

    /** The reference that was looked up. */
    public RepoRef ref() {
        return ref;
    }

    /** The command that puts it into the cache, e.g. {@code huggingface-cli download google/gemma-2-2b}. */
    public String downloadCommand() {
        return downloadCommand;
    }
}
