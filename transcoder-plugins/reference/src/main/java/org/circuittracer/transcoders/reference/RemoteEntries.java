package org.circuittracer.transcoders.reference;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.circuittracer.hub.HubCache;
import org.circuittracer.hub.NotCachedException;
import org.circuittracer.hub.RepoRef;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * {@code transcoders:} entries that name files on the Hugging Face Hub, {@code hf://ORG/REPO/PATH[?revision=R]}, as
 * circuit-tracer 0.5 reads them ({@code parse_hf_uri} in {@code circuit_tracer/utils/hf_utils.py}: the host is the
 * organisation, the first path segment the repository, the rest the file, {@code revision} from the query). The
 * canonical {@code mntss/gemma-scope-transcoders/config.yaml} lists one such entry per layer.
 *
 * <p>Nothing is downloaded: an entry is read from the local Hugging Face cache ({@link HubCache}, the cache
 * {@code huggingface-cli download} fills, found through {@code HF_HUB_CACHE}, {@code HF_HOME}, …), and entries that
 * are not cached are refused together, with the {@code huggingface-cli download} line of each repository.
 */
final class RemoteEntries {

    /** The scheme of Hub entries. */
    static final String HF = "hf://";

    /**
     * One Hub entry.
     *
     * @param index its position in the list (= the layer)
     * @param entry as written
     * @param ref   the repository, the file in it and the revision
     */
    record Remote(int index, String entry, RepoRef ref) {
    }

    private RemoteEntries() {
    }

    /** Whether {@code entry} is a URI rather than a local path. */
    static boolean isUri(String entry) {
        return entry.contains("://");
    }

    /** The file part of an entry (without a {@code ?query}), for checking its suffix. */
    static String pathPart(String entry) {
        int q = isUri(entry) ? entry.indexOf('?') : -1;
        return q >= 0 ? entry.substring(0, q) : entry;
    }

    /**
     * Parses {@code hf://ORG/REPO/PATH[?revision=R]}.
     *
     * @throws CircuitTracerException MALFORMED_FILE naming the entry when it is not such a URI
     */
    static Remote parse(Path configFile, int index, String entry) {
        String where = configFile + ": transcoders[" + index + "] = '" + entry + "'";
        if (!entry.startsWith(HF)) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, where + " is a remote reference that "
                    + "circuit-tracer does not read; entries are local paths (relative to the directory or absolute) "
                    + "or hf://ORG/REPO/PATH[?revision=R].");
        }
        try {
            return new Remote(index, entry, RepoRef.parseUri(entry));
        } catch (CircuitTracerException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, where + " is not a Hugging Face file "
                    + "URI; write hf://ORG/REPO/PATH[?revision=R]. (" + e.getMessage() + ")", e);
        }
    }

    /** The cached copy of {@code remote}, if the cache holds it completely. */
    static Optional<Path> locate(HubCache cache, Remote remote) {
        try {
            Path path = cache.locate(remote.ref()).path();
            return Files.isRegularFile(path) ? Optional.of(path) : Optional.empty();
        } catch (NotCachedException e) {
            return Optional.empty();
        }
    }

    /** FILE_NOT_FOUND for the Hub entries not in the cache, with one download line per repository and revision. */
    static CircuitTracerException notCached(Path configFile, HubCache cache, List<Remote> missing, int entries) {
        Map<String, List<Remote>> byRepository = new LinkedHashMap<>();
        for (Remote r : missing) {
            String revision = r.ref().revision() == null ? "" : " --revision " + quote(r.ref().revision());
            byRepository.computeIfAbsent(r.ref().repoId() + revision, k -> new ArrayList<>()).add(r);
        }
        String shown = missing.stream().limit(3).map(r -> "transcoders[" + r.index() + "] = '" + r.entry() + "'")
                .collect(Collectors.joining(", ")) + (missing.size() > 3 ? ", …" : "");
        String commands = byRepository.entrySet().stream().map(e -> "  huggingface-cli download " + e.getKey() + " "
                + e.getValue().stream().map(r -> quote(r.ref().path())).collect(Collectors.joining(" ")))
                .collect(Collectors.joining("\n"));
        return new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, configFile + " lists " + missing.size()
                + " of its " + entries + " transcoder files on the Hugging Face Hub (" + shown + "), which are not in "
                + "the local Hugging Face cache (" + cache.root() + ", from " + cache.origin() + "); they must be "
                + "downloaded: nothing is fetched at run time. Download them with\n" + commands
                + "\n(or list the files' local paths under transcoders:, absolute or relative to "
                + configFile.getParent() + ").");
    }

    private static String quote(String word) {
        return word.matches("[A-Za-z0-9._/@%+=:,-]+") ? word : "'" + word.replace("'", "'\\''") + "'";
    }
}
