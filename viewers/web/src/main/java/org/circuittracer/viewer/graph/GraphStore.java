package org.circuittracer.viewer.graph;

import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.circuittracer.attribution.export.GraphIndex;
import org.circuittracer.attribution.export.GraphJsonExporter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.viewer.ViewerErrors;
import org.circuittracer.viewer.files.FileWrites;
import org.circuittracer.viewer.files.ServedDirectory;

/**
 * The graphs of a graph directory: the index {@code graph-metadata.json} and one {@code <slug>.json} per graph.
 * Parsed graphs are cached until their file changes. Thread-safe.
 */
public final class GraphStore {

    /** Same style as the reference's re-saved files: 2-space indent, non-ASCII escaped. */
    private static final ObjectMapper REWRITE = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ServedDirectory directory;
    private final FileWrites writes;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    private record Cached(FileTime modified, long size, LoadedGraph graph) {
    }

    public GraphStore(ServedDirectory directory) {
        this(directory, FileWrites.ATOMIC);
    }

    /** @param writes how files of the directory are replaced ({@link FileWrites#ATOMIC}; tests inject failures) */
    public GraphStore(ServedDirectory directory, FileWrites writes) {
        this.directory = directory;
        this.writes = writes;
    }

    /** How files of the directory are replaced. */
    public FileWrites writes() {
        return writes;
    }

    public ServedDirectory directory() {
        return directory;
    }

    /** The index entries, each with {@code available}: whether its graph file exists. */
    public ArrayNode list() {
        ObjectNode index = GraphIndex.read(directory.root().resolve(GraphJsonExporter.INDEX_FILE));
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        for (JsonNode entry : index.get("graphs")) {
            if (!entry.isObject() || !entry.path("slug").isTextual()) {
                continue;
            }
            ObjectNode e = ((ObjectNode) entry).deepCopy();
            String slug = entry.get("slug").asText();
            e.put("available", validSlug(slug) && Files.isRegularFile(directory.root().resolve(slug + ".json")));
            out.add(e);
        }
        return out;
    }

    /**
     * @throws CircuitTracerException INVALID_ARGUMENT for a slug that is not a file name, NOT_FOUND when there is no
     *         such graph, MALFORMED_FILE when its file is not a graph
     */
    public LoadedGraph load(String slug) {
        Path file = graphFile(slug);
        try {
            FileTime modified = Files.getLastModifiedTime(file);
            long size = Files.size(file);
            Cached c = cache.get(slug);
            if (c != null && c.modified().equals(modified) && c.size() == size) {
                return c.graph();
            }
            LoadedGraph g = LoadedGraph.parse(slug, JSON.readTree(file.toFile()));
            cache.put(slug, new Cached(modified, size, g));
            return g;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "Graph file '" + slug + ".json' is not "
                    + "valid JSON: " + e.getOriginalMessage() + ". Re-export it.", e);
        } catch (java.io.CharConversionException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "Graph file '" + slug + ".json' is not "
                    + "UTF-8 text (" + e.getMessage() + "). Re-export it.", e);
        } catch (IOException e) {
            throw ViewerErrors.notFound("Cannot read graph '" + slug + "': " + e.getMessage());
        }
    }

    /** The existing graph file of {@code slug}. */
    public Path graphFile(String slug) {
        checkSlug(slug);
        Path file = directory.resolve(slug + ".json");
        if (!Files.isRegularFile(file)) {
            throw ViewerErrors.notFound("No graph '" + slug + "' in " + directory.root() + " (no " + slug
                    + ".json). GET /api/graphs lists the graphs.");
        }
        return file;
    }

    /** The lock serialising writes to one graph's files (graph JSON and annotations). */
    public ReentrantLock lock(String slug) {
        return locks.computeIfAbsent(slug, s -> new ReentrantLock());
    }

    /**
     * {@code POST /save_graph/<slug>} (docs/reference/graph-format.md §5.4): replaces the file's {@code qParams} verbatim, keeps the
     * previous file as {@code <slug>.json.bak}, and rewrites it atomically.
     */
    public void replaceQParams(String slug, JsonNode qParams) {
        Path file = graphFile(slug);
        ReentrantLock lock = lock(slug);
        lock.lock();
        try {
            byte[] previous = Files.readAllBytes(file);
            JsonNode root = JSON.readTree(previous);
            if (root == null || !root.isObject()) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "Graph file '" + slug + ".json' is "
                        + "not a JSON object; cannot save into it.");
            }
            ((ObjectNode) root).set("qParams", qParams);
            byte[] bytes = REWRITE.writeValueAsBytes(root);
            // the backup is written atomically too: a copy killed half-way would leave a torn .bak
            FileWrites.write(writes, file.resolveSibling(slug + ".json.bak"), previous, "the backup of graph '" + slug
                    + "'");
            FileWrites.write(writes, file, bytes, "the view state of graph '" + slug + "'");
            cache.remove(slug);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "Graph file '" + slug + ".json' is not "
                    + "valid JSON (" + e.getOriginalMessage() + "); cannot save into it.", e);
        } catch (IOException e) {
            // reading the file or copying its backup failed: the graph file itself is untouched
            throw FileWrites.cannotWrite(file, "the view state of graph '" + slug + "'", e);
        } finally {
            lock.unlock();
        }
    }

    /** Slugs name files in the graph directory: no separators, control characters or leading dot. */
    public static void checkSlug(String slug) {
        if (!validSlug(slug)) {
            throw ViewerErrors.badRequest("'" + (slug == null ? "" : slug.length() > 80 ? slug.substring(0, 80) + "…"
                    : slug) + "' is not a graph slug: use letters, digits, '_', '-' and '.' (not first), at most 200 "
                    + "characters, no path separators.");
        }
    }

    static boolean validSlug(String slug) {
        return slug != null && !slug.isEmpty() && slug.length() <= 200 && slug.charAt(0) != '.'
                && slug.chars().noneMatch(c -> c == '/' || c == '\\' || c < 0x20 || c == 0x7f || c == ':')
                && isFileName(slug);
    }

    /** Whether the file system can name a file {@code slug}: a lone surrogate (found by HttpRouteFuzzTest, a 500),
     *  or any non-ASCII name under a non-UTF-8 file name encoding, cannot. */
    private static boolean isFileName(String slug) {
        for (int i = 0; i < slug.length(); i++) {
            char c = slug.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < slug.length() && Character.isLowSurrogate(slug.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return false;
            }
        }
        try {
            Path.of(slug + ".annotations.json");
            return true;
        } catch (java.nio.file.InvalidPathException e) {
            return false;
        }
    }
}
