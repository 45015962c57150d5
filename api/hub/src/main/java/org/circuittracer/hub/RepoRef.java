package org.circuittracer.hub;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * A reference to (a path inside) a Hugging Face model repository: {@code ORG/NAME}, optionally followed by a path
 * inside the repository and an {@code @REVISION} (a branch or tag name, or a commit hash), as the reference
 * circuit-tracer writes it: {@code mntss/gemma-scope-transcoders}, {@code org/repo@v2},
 * {@code mwhanna/gemma-scope-2-27b-pt/transcoder_all/width_262k_l0_small}. The URI form
 * {@code hf://ORG/NAME/PATH?revision=R} of transcoder configurations is read by {@link #parseUri}.
 *
 * @param repoId   {@code ORG/NAME}
 * @param path     a relative path inside the repository ({@code /}-separated), or null for the whole repository
 * @param revision a branch, tag or commit hash, or null for {@code main}
 */
public record RepoRef(String repoId, String path, String revision) {

    /** The revision used when none is given. */
    public static final String DEFAULT_REVISION = "main";

    /**
     * A repository name part as the Hub allows it: letters, digits, {@code -}, {@code _} and {@code .}, neither
     * starting nor ending with {@code -} or {@code .}, without {@code --} or {@code ..}; at most 96 characters.
     */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?");
    private static final Pattern REVISION = Pattern.compile("[A-Za-z0-9._/+-]{1,255}");

    public RepoRef {
        if (repoId == null || !validRepoId(repoId)) {
            throw invalid(String.valueOf(repoId), "the repository id must be ORG/NAME (letters, digits, '-', '_', '.')");
        }
        if (path != null) {
            path = normalizePath(path, repoId);
        }
        if (revision != null && !validRevision(revision)) {
            throw invalid(repoId + "@" + revision, "the revision must be a branch or tag name or a commit hash");
        }
    }

    /**
     * Parses {@code ORG/NAME[/PATH][@REVISION]} (the revision is everything after the first {@code @}).
     *
     * @throws CircuitTracerException INVALID_ARGUMENT when {@code text} is not such a reference
     */
    public static RepoRef parse(String text) {
        return tryParse(text).orElseThrow(() -> invalid(String.valueOf(text),
                "give ORG/NAME, ORG/NAME/PATH or ORG/NAME@REVISION, e.g. google/gemma-2-2b"));
    }

    /**
     * The reference {@code text} names, or empty when it does not look like one. Texts that are clearly local paths
     * (absolute, starting with {@code .} or {@code ~}, with backslashes or empty segments) are never references.
     */
    public static Optional<RepoRef> tryParse(String text) {
        if (text == null || text.isEmpty() || text.startsWith("/") || text.startsWith(".") || text.startsWith("~")
                || text.contains("\\") || text.contains("//") || text.contains(":")) {
            return Optional.empty();
        }
        String location = text;
        String revision = null;
        int at = text.indexOf('@');
        if (at >= 0) {
            location = text.substring(0, at);
            revision = text.substring(at + 1);
            if (!validRevision(revision)) {
                return Optional.empty();
            }
        }
        while (location.endsWith("/")) {
            location = location.substring(0, location.length() - 1);
        }
        String[] parts = location.split("/", -1);
        if (parts.length < 2 || !validName(parts[0]) || !validName(parts[1])) {
            return Optional.empty();
        }
        String path = null;
        if (parts.length > 2) {
            path = String.join("/", List.of(parts).subList(2, parts.length));
            if (!validPath(path)) {
                return Optional.empty();
            }
        }
        return Optional.of(new RepoRef(parts[0] + "/" + parts[1], path, revision));
    }

    /**
     * Parses a URI {@code hf://ORG/NAME/PATH[?revision=R]}, the form of the {@code transcoders:} entries of the
     * reference's {@code config.yaml}.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT when {@code uri} is not such a URI
     */
    public static RepoRef parseUri(String uri) {
        String prefix = "hf://";
        if (uri == null || !uri.startsWith(prefix)) {
            throw invalid(String.valueOf(uri), "a Hugging Face URI starts with hf://, e.g. hf://ORG/NAME/file.safetensors");
        }
        String rest = uri.substring(prefix.length());
        String revision = null;
        int q = rest.indexOf('?');
        if (q >= 0) {
            for (String parameter : rest.substring(q + 1).split("&")) {
                int eq = parameter.indexOf('=');
                if (eq > 0 && parameter.substring(0, eq).equals("revision") && eq + 1 < parameter.length()) {
                    revision = URLDecoder.decode(parameter.substring(eq + 1), StandardCharsets.UTF_8);
                }
            }
            rest = rest.substring(0, q);
        }
        while (rest.endsWith("/")) {
            rest = rest.substring(0, rest.length() - 1);
        }
        String[] parts = rest.split("/", 3);
        if (parts.length < 3 || parts[2].isEmpty() || !validName(parts[0]) || !validName(parts[1])
                || !validPath(parts[2])) {
            throw invalid(uri, "give hf://ORG/NAME/PATH[?revision=R]");
        }
        if (revision != null && !validRevision(revision)) {
            throw invalid(uri, "the revision must be a branch or tag name or a commit hash");
        }
        return new RepoRef(parts[0] + "/" + parts[1], parts[2], revision);
    }

    /** The revision to look up: {@link #revision()}, or {@value #DEFAULT_REVISION}. */
    public String effectiveRevision() {
        return revision != null ? revision : DEFAULT_REVISION;
    }

    /** The repository's folder in the cache: {@code models--ORG--NAME}. */
    public String cacheFolderName() {
        return "models--" + repoId.replace("/", "--");
    }

    /** The same reference without its path (the whole repository). */
    public RepoRef repository() {
        return path == null ? this : new RepoRef(repoId, null, revision);
    }

    /** The same repository and revision with another path inside it. */
    public RepoRef withPath(String newPath) {
        return new RepoRef(repoId, newPath, revision);
    }

    /**
     * The command that puts this reference into the cache: {@code huggingface-cli download ORG/NAME}, with
     * {@code --revision R} when a revision was given and {@code --include 'PATH/*'} (or the file) for a path.
     */
    public String downloadCommand() {
        List<String> words = new ArrayList<>(List.of("huggingface-cli", "download", repoId));
        if (path != null && lastSegment(path).lastIndexOf('.') > 0) {
            words.add(quote(path)); // a file: named as it is
        }
        if (revision != null) {
            words.add("--revision");
            words.add(quote(revision));
        }
        if (path != null && lastSegment(path).lastIndexOf('.') <= 0) {
            words.add("--include");
            words.add("'" + path.replace("'", "'\\''") + "/*'"); // a folder: everything below it
        }
        return String.join(" ", words);
    }

    /** {@code ORG/NAME[/PATH][@REVISION]}, as {@link #parse} reads it. */
    @Override
    public String toString() {
        return repoId + (path != null ? "/" + path : "") + (revision != null ? "@" + revision : "");
    }

    private static String lastSegment(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    private static String quote(String word) {
        return word.matches("[A-Za-z0-9._/@%+=:,-]+") ? word : "'" + word.replace("'", "'\\''") + "'";
    }

    private static boolean validRepoId(String id) {
        String[] parts = id.split("/", -1);
        return parts.length == 2 && validName(parts[0]) && validName(parts[1]);
    }

    private static boolean validName(String name) {
        return NAME.matcher(name).matches() && !name.contains("--") && !name.contains("..");
    }

    private static boolean validRevision(String revision) {
        return REVISION.matcher(revision).matches() && validPath(revision);
    }

    private static boolean validPath(String path) {
        if (path.isEmpty() || path.contains("\\") || path.indexOf('\0') >= 0) {
            return false;
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                return false;
            }
        }
        return true;
    }

    private static String normalizePath(String path, String repoId) {
        String p = path;
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        if (p.isEmpty()) {
            return null;
        }
        if (!validPath(p)) {
            throw invalid(repoId + "/" + path, "a path inside the repository is relative and has no '.' or '..' parts");
        }
        return p;
    }

    private static CircuitTracerException invalid(String text, String how) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Not a Hugging Face repo reference: '"
                + text + "': " + how + ".");
    }
}
