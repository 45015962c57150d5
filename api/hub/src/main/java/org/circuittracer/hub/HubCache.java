package org.circuittracer.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * The local Hugging Face cache, read offline: resolves {@link RepoRef}s ({@code ORG/NAME[/PATH][@REVISION]},
 * {@code hf://} URIs) to the files {@code huggingface-cli download} (or {@code huggingface_hub}) put there. Nothing is
 * ever downloaded; what is missing is a {@link NotCachedException} whose message gives the command that fetches it.
 *
 * <p>The cache root is found as {@code huggingface_hub} finds it: {@code HF_HUB_CACHE}, else the legacy
 * {@code HUGGINGFACE_HUB_CACHE}, else {@code HF_HOME/hub}, else {@code XDG_CACHE_HOME/huggingface/hub}, else
 * {@code ~/.cache/huggingface/hub}. {@link #fromEnvironment()} reads these environment variables, each overridable by
 * the system property {@code circuittracer.env.NAME} (so launchers and tests can set them in-process);
 * {@link #fromEnvironment(Map, Path)} takes them explicitly.
 *
 * <p>Layout: {@code ROOT/models--ORG--NAME/refs/BRANCH} holds the commit hash a branch or tag pointed to when it was
 * downloaded, {@code ROOT/models--ORG--NAME/snapshots/COMMIT/...} the repository's files (usually symbolic links into
 * {@code ../../blobs/}). A revision is a name under {@code refs/}, or a commit hash (full, or a prefix of at least 7
 * characters that names one cached snapshot).
 */
public final class HubCache {

    /** The system property prefix that overrides an environment variable: {@code circuittracer.env.HF_HUB_CACHE}. */
    public static final String PROPERTY_PREFIX = "circuittracer.env.";

    /** The environment variables that choose the cache root, in the order they are consulted. */
    public static final List<String> VARIABLES = List.of("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME",
            "XDG_CACHE_HOME");

    /**
     * The reference CLI's shortcuts for transcoder sets ({@code --transcoder_set gemma|llama}), each with the
     * repositories it stands for, the current one first: {@code gemma} is {@code mwhanna/gemma-scope-transcoders}
     * (formerly {@code mntss/gemma-scope-transcoders}, still accepted when that is what the cache holds),
     * {@code llama} is {@code mntss/transcoder-Llama-3.2-1B}.
     */
    public static final Map<String, List<String>> TRANSCODER_PRESETS = presets();

    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern COMMIT_PREFIX = Pattern.compile("[0-9a-f]{7,39}");
    private static final int MISSING_LISTED = 5;

    private final Path root;
    private final String origin;

    private HubCache(Path root, String origin) {
        this.root = Objects.requireNonNull(root, "root");
        this.origin = origin;
    }

    /** The cache this process's environment names (system properties {@code circuittracer.env.NAME} first). */
    public static HubCache fromEnvironment() {
        Map<String, String> env = new HashMap<>();
        for (String name : VARIABLES) {
            String value = System.getProperty(PROPERTY_PREFIX + name, System.getenv(name));
            if (value != null) {
                env.put(name, value);
            }
        }
        return fromEnvironment(env, Path.of(System.getProperty("user.home")));
    }

    /**
     * The cache {@code env} names ({@link #VARIABLES}; blank values count as unset), with {@code home} for
     * {@code ~}.
     */
    public static HubCache fromEnvironment(Map<String, String> env, Path home) {
        for (String name : List.of("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE")) {
            String value = env.get(name);
            if (value != null && !value.isBlank()) {
                return new HubCache(expand(value, home), name + "=" + value);
            }
        }
        String hfHome = env.get("HF_HOME");
        if (hfHome != null && !hfHome.isBlank()) {
            return new HubCache(expand(hfHome, home).resolve("hub"), "HF_HOME/hub, HF_HOME=" + hfHome);
        }
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return new HubCache(expand(xdg, home).resolve("huggingface").resolve("hub"),
                    "XDG_CACHE_HOME/huggingface/hub, XDG_CACHE_HOME=" + xdg);
        }
        return new HubCache(home.resolve(".cache").resolve("huggingface").resolve("hub"),
                "the default ~/.cache/huggingface/hub; set HF_HUB_CACHE or HF_HOME to use another");
    }

    /** The cache at {@code root} (the directory that holds {@code models--ORG--NAME}). */
    public static HubCache at(Path root) {
        return new HubCache(root, "given");
    }

    /** The cache root. */
    public Path root() {
        return root;
    }

    /** How the root was chosen, e.g. {@code HF_HUB_CACHE=/data/hf}. */
    public String origin() {
        return origin;
    }

    /** The cached file or folder {@code ORG/NAME[/PATH][@REVISION]} names. */
    public Path resolve(String reference) {
        return locate(RepoRef.parse(reference)).path();
    }

    /** The cached file or folder an {@code hf://ORG/NAME/PATH[?revision=R]} URI names. */
    public Path resolveUri(String uri) {
        return locate(RepoRef.parseUri(uri)).path();
    }

    /** Whether {@code ref} is cached completely (as {@link #locate} would find it). */
    public boolean contains(RepoRef ref) {
        try {
            locate(ref);
            return true;
        } catch (NotCachedException e) {
            return false;
        }
    }

    /**
     * Finds {@code ref} in the cache.
     *
     * @throws NotCachedException when the repository, the revision, the path or one of the files under it (a link
     *                            into {@code blobs/} whose blob is missing) is not cached
     */
    public Snapshot locate(RepoRef ref) {
        Path repo = root.resolve(ref.cacheFolderName());
        if (!Files.isDirectory(repo)) {
            String where = Files.isDirectory(root) ? "looked for " + repo
                    : "the cache directory " + root + " does not exist";
            throw new NotCachedException(ref, "Hugging Face repo " + ref.repoId() + " is not in the local Hugging Face "
                    + "cache (" + where + "; cache from " + origin + ").", ref.repository().downloadCommand());
        }
        String commit = commitOf(ref, repo);
        Path snapshot = repo.resolve("snapshots").resolve(commit);
        if (!Files.isDirectory(snapshot)) {
            throw new NotCachedException(ref, "Hugging Face repo " + ref.repoId() + " names commit " + commit + " for "
                    + ref.effectiveRevision() + ", but its snapshot " + snapshot + " is missing (an interrupted or "
                    + "removed download?).", ref.repository().downloadCommand());
        }
        Path path = snapshot;
        if (ref.path() != null) {
            path = snapshot.resolve(ref.path());
            if (!Files.exists(path)) {
                String why = Files.isSymbolicLink(path) ? "its link into blobs/ is broken (the blob is missing)"
                        : "the cached snapshot " + snapshot + " does not hold it";
                throw new NotCachedException(ref, ref.path() + " of Hugging Face repo " + ref.repoId() + " (revision "
                        + ref.effectiveRevision() + ") is not cached: " + why + ".", ref.downloadCommand());
            }
        }
        List<Path> broken = brokenLinks(path);
        if (!broken.isEmpty()) {
            String listed = broken.stream().limit(MISSING_LISTED).map(p -> snapshot.relativize(p).toString())
                    .collect(Collectors.joining(", "));
            throw new NotCachedException(ref, "Hugging Face repo " + ref.repoId() + " is cached incompletely in "
                    + snapshot + ": " + broken.size() + " file(s) link to missing blobs (" + listed
                    + (broken.size() > MISSING_LISTED ? ", ..." : "") + ").", ref.downloadCommand());
        }
        return new Snapshot(ref, commit, snapshot, path);
    }

    /**
     * The revisions cached for {@code repoId}: each name under {@code refs/} with the commit it names, then each
     * snapshot directory no ref names (with itself); empty when the repository is not cached.
     */
    public Map<String, String> cachedRevisions(String repoId) {
        Path repo = root.resolve(new RepoRef(repoId, null, null).cacheFolderName());
        Map<String, String> out = new LinkedHashMap<>();
        Path refs = repo.resolve("refs");
        if (Files.isDirectory(refs)) {
            try (Stream<Path> files = Files.walk(refs)) {
                files.filter(Files::isRegularFile).sorted().forEach(f -> out.put(
                        refs.relativize(f).toString().replace('\\', '/'), readCommit(f)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        for (String commit : snapshots(repo)) {
            if (!out.containsValue(commit)) {
                out.put(commit, commit);
            }
        }
        return out;
    }

    private String commitOf(RepoRef ref, Path repo) {
        String revision = ref.effectiveRevision();
        Path named = repo.resolve("refs").resolve(revision);
        if (named.normalize().startsWith(repo.resolve("refs")) && Files.isRegularFile(named)) {
            String commit = readCommit(named);
            if (!commit.isEmpty()) {
                return commit;
            }
        }
        List<String> snapshots = snapshots(repo);
        if (COMMIT.matcher(revision).matches() && snapshots.contains(revision)) {
            return revision;
        }
        if (COMMIT_PREFIX.matcher(revision).matches()) {
            List<String> matching = snapshots.stream().filter(s -> s.startsWith(revision)).toList();
            if (matching.size() == 1) {
                return matching.get(0);
            }
        }
        Map<String, String> cached = cachedRevisions(ref.repoId());
        String have = cached.isEmpty() ? "none" : cached.entrySet().stream()
                .map(e -> e.getKey().equals(e.getValue()) ? "commit " + shortCommit(e.getKey())
                        : e.getKey() + " (commit " + shortCommit(e.getValue()) + ")")
                .collect(Collectors.joining(", "));
        String hint = ref.revision() == null && !cached.isEmpty()
                ? " Name one as " + ref.repoId() + "@REVISION, or fetch main:" : "";
        throw new NotCachedException(ref, "Revision " + revision + " of Hugging Face repo " + ref.repoId() + " is "
                + "not in the local cache " + repo + " (cached revisions: " + have + ")." + hint,
                ref.repository().downloadCommand());
    }

    private static List<String> snapshots(Path repo) {
        Path dir = repo.resolve("snapshots");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Path> brokenLinks(Path path) {
        if (Files.isSymbolicLink(path) && !Files.exists(path)) {
            return List.of(path);
        }
        if (!Files.isDirectory(path)) {
            return List.of();
        }
        List<Path> broken = new ArrayList<>();
        try (Stream<Path> entries = Files.walk(path)) {
            entries.filter(p -> Files.isSymbolicLink(p) && !Files.exists(p)).sorted().forEach(broken::add);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot read the cached snapshot "
                    + path + ": " + e.getMessage() + ". Check its permissions.", e);
        }
        return broken;
    }

    private static String readCommit(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot read " + file + ": "
                    + e.getMessage() + ". Check its permissions.", e);
        }
    }

    private static String shortCommit(String commit) {
        return commit.length() > 12 ? commit.substring(0, 12) : commit;
    }

    private static Path expand(String value, Path home) {
        if (value.equals("~")) {
            return home;
        }
        if (value.startsWith("~/")) {
            return home.resolve(value.substring(2));
        }
        return Path.of(value);
    }

    /**
     * The repository a transcoder preset ({@link #TRANSCODER_PRESETS}) stands for here: the first of its repositories
     * that is cached, else the current one (whose lookup then says how to fetch it); empty when {@code name} is no
     * preset.
     */
    public Optional<RepoRef> preset(String name) {
        List<String> repos = TRANSCODER_PRESETS.get(name);
        if (repos == null) {
            return Optional.empty();
        }
        for (String repo : repos) {
            RepoRef ref = RepoRef.parse(repo);
            if (contains(ref)) {
                return Optional.of(ref);
            }
        }
        return Optional.of(RepoRef.parse(repos.get(0)));
    }

    private static Map<String, List<String>> presets() {
        Map<String, List<String>> presets = new LinkedHashMap<>();
        presets.put("gemma", List.of("mwhanna/gemma-scope-transcoders", "mntss/gemma-scope-transcoders"));
        presets.put("llama", List.of("mntss/transcoder-Llama-3.2-1B"));
        return java.util.Collections.unmodifiableMap(presets);
    }

    @Override
    public String toString() {
        return "HubCache[" + root + " (" + origin + ")]";
    }
}
