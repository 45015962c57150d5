package org.circuittracer.safetensors;

import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.BAD_INDEX;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.IO;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.MISSING_TENSOR;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.NOT_FOUND;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A model checkpoint that may be split over several safetensors files, as Hugging Face saves large models:
 * {@code model.safetensors.index.json} = {@code {"metadata": {...}, "weight_map": {tensor: shard file}}} next
 * to the shards. Tensors are looked up by name across shards.
 *
 * <p>{@link #open(Path)} validates everything up front: the index's JSON and schema, that every shard exists
 * inside the checkpoint directory and is a valid safetensors file (headers only are read), and that every
 * tensor the index lists is in its shard. Tensors present in a shard but absent from the index are ignored,
 * as the Python libraries do.
 *
 * <p>Thread-safe for reads.
 */
public final class ShardedCheckpoint implements TensorSource {

    /** The single-file checkpoint name. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** The sharded checkpoint index name. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private static final long MAX_INDEX_BYTES = 100_000_000L;
    private static final int MAX_INDEX_ARRAY = 1 << 16;

    private final Path directory;
    private final Path indexFile; // null for a single file
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> byTensor; // in index (or header) order
    private final List<String> names;
    private final Map<String, String> metadata;

    private ShardedCheckpoint(Path directory, Path indexFile, List<SafetensorsFile> shards,
                              Map<String, SafetensorsFile> byTensor, Map<String, String> metadata) {
        this.directory = directory;
        this.indexFile = indexFile;
        this.shards = List.copyOf(shards);
        this.byTensor = Collections.unmodifiableMap(byTensor);
        this.names = List.copyOf(byTensor.keySet());
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /**
     * Opens a checkpoint.
     *
     * @param path a model directory (holding {@code model.safetensors}, which wins if both exist, or
     *             {@code model.safetensors.index.json}, or else exactly one {@code *.safetensors.index.json}),
     *             an index file, or a single {@code .safetensors} file
     * @return the open checkpoint; close it when done
     * @throws SafetensorsFormatException if anything is missing or malformed
     */
    public static ShardedCheckpoint open(Path path) {
        if (Files.isDirectory(path)) {
            if (Files.isRegularFile(path.resolve(SINGLE_FILE))) {
                return single(path.resolve(SINGLE_FILE));
            }
            if (Files.isRegularFile(path.resolve(INDEX_FILE))) {
                return sharded(path.resolve(INDEX_FILE));
            }
            List<Path> indexes = list(path, "*.safetensors.index.json");
            if (indexes.size() == 1) {
                return sharded(indexes.get(0));
            }
            List<Path> files = list(path, "*.safetensors");
            if (indexes.isEmpty() && files.size() == 1) {
                return single(files.get(0));
            }
            throw new SafetensorsFormatException(NOT_FOUND, path, null, "no " + SINGLE_FILE + " or " + INDEX_FILE
                    + " in this directory" + (indexes.size() + files.size() == 0 ? ""
                            : "; it holds " + (indexes.size() + files.size()) + " other candidates ("
                                    + names(indexes, files) + "): open the intended one directly"));
        }
        if (!Files.exists(path)) {
            throw new SafetensorsFormatException(NOT_FOUND, path, null, "no such file or directory; check the path");
        }
        return path.getFileName().toString().endsWith(".json") ? sharded(path) : single(path);
    }

    private static String names(List<Path> a, List<Path> b) {
        List<Path> all = new ArrayList<>(a);
        all.addAll(b);
        return all.stream().map(p -> p.getFileName().toString()).sorted().limit(5).collect(Collectors.joining(", "));
    }

    private static List<Path> list(Path dir, String glob) {
        List<Path> result = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, glob)) {
            s.forEach(result::add);
        } catch (IOException e) {
            throw new SafetensorsFormatException(IO, dir, null, "cannot list the directory: " + e, e);
        }
        Collections.sort(result);
        return result;
    }

    private static ShardedCheckpoint single(Path file) {
        SafetensorsFile f = SafetensorsFile.open(file);
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        for (String n : f.names()) {
            byTensor.put(n, f);
        }
        Path dir = file.toAbsolutePath().getParent();
        return new ShardedCheckpoint(dir, null, List.of(f), byTensor, f.metadata());
    }

    private static ShardedCheckpoint sharded(Path index) {
        Path dir = index.toAbsolutePath().normalize().getParent();
        Map<?, ?> root = readIndex(index);

        Map<String, String> metadata = new LinkedHashMap<>();
        Object meta = root.get("metadata");
        if (meta != null && meta != Json.NULL) {
            if (!(meta instanceof Map<?, ?> m)) {
                throw badIndex(index, "\"metadata\" must be an object, but it is " + Json.typeName(meta));
            }
            // non-string values (e.g. "total_size": 123) are kept as their JSON text
            m.forEach((k, v) -> metadata.put((String) k, v instanceof String s ? s : Json.write(v)));
        }

        Object wm = root.get("weight_map");
        if (wm == null) {
            throw badIndex(index, "it has no \"weight_map\" (the map from tensor name to shard file); it is not a "
                    + "safetensors index or it is incomplete");
        }
        if (!(wm instanceof Map<?, ?> weightMap)) {
            throw badIndex(index, "\"weight_map\" must be an object mapping tensor names to shard file names, but it is "
                    + Json.typeName(wm));
        }
        if (weightMap.isEmpty()) {
            throw badIndex(index, "\"weight_map\" is empty: the index lists no tensors");
        }

        Map<String, Path> shardPaths = new LinkedHashMap<>(); // shard name -> path, in first-use order
        Map<String, String> tensorToShard = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : weightMap.entrySet()) {
            String tensor = (String) e.getKey();
            if (!(e.getValue() instanceof String shard)) {
                throw badIndex(index, "\"weight_map\" entry for tensor " + Json.quote(tensor)
                        + " must be a shard file name, but it is " + Json.typeName(e.getValue()));
            }
            if (!shardPaths.containsKey(shard)) {
                shardPaths.put(shard, shardPath(index, dir, tensor, shard));
            }
            tensorToShard.put(tensor, shard);
        }

        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> files = new LinkedHashMap<>();
            for (Map.Entry<String, Path> s : shardPaths.entrySet()) {
                if (!Files.exists(s.getValue())) {
                    long count = tensorToShard.values().stream().filter(s.getKey()::equals).count();
                    String first = tensorToShard.entrySet().stream().filter(x -> x.getValue().equals(s.getKey()))
                            .map(Map.Entry::getKey).findFirst().orElseThrow();
                    throw new SafetensorsFormatException(NOT_FOUND, index, first, "shard " + Json.quote(s.getKey())
                            + ", which holds " + count + " tensor" + (count == 1 ? "" : "s") + " (e.g. "
                            + Json.quote(first) + "), does not exist in " + dir
                            + "; the download is incomplete: fetch the missing shard");
                }
                SafetensorsFile f = SafetensorsFile.open(s.getValue());
                opened.add(f);
                files.put(s.getKey(), f);
            }
            Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : tensorToShard.entrySet()) {
                SafetensorsFile f = files.get(e.getValue());
                if (!f.contains(e.getKey())) {
                    throw new SafetensorsFormatException(MISSING_TENSOR, index, e.getKey(), "the index maps tensor "
                            + Json.quote(e.getKey()) + " to shard " + Json.quote(e.getValue())
                            + ", but that shard has no such tensor; the index and the shards do not match "
                            + "(re-download them together)");
                }
                byTensor.put(e.getKey(), f);
            }
            return new ShardedCheckpoint(dir, index, opened, byTensor, metadata);
        } catch (RuntimeException e) {
            opened.forEach(ShardedCheckpoint::closeQuietly);
            throw e;
        }
    }

    private static Map<?, ?> readIndex(Path index) {
        byte[] bytes;
        try {
            long size = Files.size(index);
            if (size > MAX_INDEX_BYTES) {
                throw badIndex(index, "the index is " + size + " bytes, more than " + MAX_INDEX_BYTES
                        + "; it is not a safetensors index");
            }
            bytes = Files.readAllBytes(index);
        } catch (NoSuchFileException e) {
            throw new SafetensorsFormatException(NOT_FOUND, index, null, "no such file; check the path", e);
        } catch (IOException e) {
            throw new SafetensorsFormatException(IO, index, null, "cannot read the index: " + e, e);
        }
        Object root;
        try {
            root = Json.parse(bytes, bytes.length, MAX_INDEX_ARRAY);
        } catch (Json.ParseException e) {
            throw badIndex(index, "the index is not valid JSON: " + e.getMessage() + " at byte " + e.offset
                    + ", near \"" + Json.excerpt(bytes, bytes.length, e.offset) + "\"; re-download it");
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw badIndex(index, "the index must be a JSON object with a \"weight_map\", but it is "
                    + Json.typeName(root));
        }
        return map;
    }

    /** Resolves a shard name, refusing anything that escapes the checkpoint directory. */
    private static Path shardPath(Path index, Path dir, String tensor, String shard) {
        Path p = null;
        try {
            if (!shard.isEmpty() && !Path.of(shard).isAbsolute()) {
                p = dir.resolve(shard).normalize();
                if (!p.startsWith(dir) || p.equals(dir)) {
                    p = null; // "../x" or "." escapes or names the directory itself
                }
            }
        } catch (InvalidPathException e) {
            p = null; // e.g. a NUL character
        }
        if (p == null) {
            throw badIndex(index, "\"weight_map\" maps tensor " + Json.quote(tensor) + " to " + Json.quote(shard)
                    + ", which is not a file name inside " + dir + "; shards must sit next to the index");
        }
        return p;
    }

    private static SafetensorsFormatException badIndex(Path index, String message) {
        return new SafetensorsFormatException(BAD_INDEX, index, null, message);
    }

    private static void closeQuietly(SafetensorsFile f) {
        try {
            f.close();
        } catch (RuntimeException ignored) {
            // already failing
        }
    }

    /** @return the checkpoint directory */
    public Path directory() {
        return directory;
    }

    /** @return the index file, or empty for a single-file checkpoint */
    public Optional<Path> indexFile() {
        return Optional.ofNullable(indexFile);
    }

    /** @return the open shards, in the order the index first mentions them */
    public List<SafetensorsFile> shards() {
        return shards;
    }

    /**
     * @param name a tensor name
     * @return the shard holding it
     */
    public SafetensorsFile shardOf(String name) {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) {
            throw new SafetensorsFormatException(MISSING_TENSOR, indexFile != null ? indexFile : shards.get(0).path(),
                    name, "no tensor named " + Json.quote(name) + " in this checkpoint (" + names.size()
                            + " tensors" + (names.isEmpty() ? "" : ", e.g. " + Json.quote(names.get(0))) + ")");
        }
        return f;
    }

    /** @return tensor names in index order (weight_map order), or header order for a single file */
    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        return shardOf(name).info(name);
    }

    @Override
    public Path fileOf(String name) {
        return shardOf(name).path();
    }

    /** @return the index's {@code metadata} (non-string values as JSON text), or a single file's metadata */
    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public ByteBuffer bytes(String name) {
        return shardOf(name).bytes(name);
    }

    @Override
    public ByteBuffer bytes(String name, long byteOffset, long byteLength) {
        return shardOf(name).bytes(name, byteOffset, byteLength);
    }

    /** Closes every shard. */
    @Override
    public void close() {
        RuntimeException first = null;
        for (SafetensorsFile f : shards) {
            try {
                f.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "ShardedCheckpoint[" + directory + ", " + shards.size() + " shard(s), " + names.size() + " tensors]";
    }
}
