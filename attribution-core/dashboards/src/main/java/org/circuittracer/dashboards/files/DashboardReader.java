package org.circuittracer.dashboards.files;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;
import org.circuittracer.attribution.export.FeatureIds;
import org.circuittracer.dashboards.FeatureDashboard;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * Reads feature dashboards from a directory in either layout (docs/reference/graph-format.md §4.4-4.5): ours, with its
 * {@code dashboards.json}, or any packed directory with an {@code index.json.gz} (gzip, zlib or plain JSON; an array or
 * an object with layer keys) and records compressed with gzip or zlib. Thread-safe; every read opens the file it needs.
 *
 * <p>Errors are {@link CircuitTracerException}s of the user category: FILE_NOT_FOUND for a missing directory, index or
 * feature file, MALFORMED_FILE (naming the file, and the record) for contents that do not parse,
 * UNSUPPORTED_FORMAT_VERSION for a manifest of a newer format, INVALID_ARGUMENT for a layer or feature that is not
 * there.
 */
public final class DashboardReader {

    private final Path directory;
    private final DashboardLayout layout;
    private final String scan;
    /** The staging directory of the manifest's generation, whose files shadow the directory's own; or null. */
    private final Path staging;
    /** Per layer (packed: from the index; per-feature: from the manifest, if any). */
    private final TreeMap<Integer, Layer> layers;

    private record Layer(String filename, long[] offsets, int features, BitSet inactive) {
    }

    private DashboardReader(Path directory, DashboardLayout layout, String scan, Path staging,
                            TreeMap<Integer, Layer> layers) {
        this.directory = directory;
        this.layout = layout;
        this.scan = scan;
        this.staging = staging;
        this.layers = layers;
    }

    /**
     * Opens a dashboards directory; the layout is detected ({@code index.json.gz} means packed).
     *
     * @throws CircuitTracerException FILE_NOT_FOUND when the directory holds no dashboards; MALFORMED_FILE or
     *         UNSUPPORTED_FORMAT_VERSION for a bad index or manifest
     */
    public static DashboardReader open(Path directory) {
        Path dir = directory.toAbsolutePath();
        if (!Files.isDirectory(dir)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The dashboards directory " + dir
                    + " does not exist. Compute dashboards with 'circuit-tracer features' first.");
        }
        JsonNode manifest = manifest(dir);
        String scan = manifest == null ? null : manifest.path("scan").asText(null);
        long generation = manifest == null ? 0 : manifest.path("generation").asLong(0);
        Path staging = generation > 0 ? dir.resolve(DashboardWriter.stagingName(generation)) : null;
        boolean packed = manifest != null ? manifest.path("layout").asText().equals(DashboardLayout.PACKED.id())
                : Files.isRegularFile(dir.resolve(DashboardWriter.INDEX));
        if (packed) {
            JsonNode index = parseIndex(dir, staging);
            TreeMap<Integer, Layer> layers = packedLayers(dir, index);
            if (scan == null && index.path("scan").isTextual()) {
                scan = index.get("scan").asText();
            }
            return new DashboardReader(dir, DashboardLayout.PACKED, scan, staging, layers);
        }
        if (manifest == null) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The directory " + dir + " holds no "
                    + "feature dashboards: neither " + DashboardWriter.INDEX + " (packed layout) nor "
                    + DashboardWriter.MANIFEST + ". Give the directory 'circuit-tracer features' wrote.");
        }
        TreeMap<Integer, Layer> layers = new TreeMap<>();
        JsonNode list = manifest.path("layers");
        if (!list.isArray()) {
            throw malformedManifest(dir, "has no \"layers\" list (found " + list.getNodeType() + ")");
        }
        for (int l = 0; l < list.size(); l++) {
            JsonNode entry = list.get(l);
            if (!entry.path("features").canConvertToInt() || !entry.path("inactive").isArray()) {
                throw malformedManifest(dir, "layer " + l + " lacks \"features\" or \"inactive\"");
            }
            int features = entry.get("features").asInt();
            if (features < 0) {
                throw malformedManifest(dir, "layer " + l + " has " + features + " features");
            }
            BitSet inactive = new BitSet();
            for (JsonNode f : entry.get("inactive")) {
                // checked before BitSet.set: a negative index throws, a huge one allocates its whole range
                if (!f.isIntegralNumber() || !f.canConvertToInt() || f.asInt() < 0 || f.asInt() >= features) {
                    throw malformedManifest(dir, "layer " + l + " lists " + f + " as an inactive feature; features "
                            + "are numbered 0 to " + (features - 1));
                }
                inactive.set(f.asInt());
            }
            layers.put(l, new Layer(null, null, features, inactive));
        }
        return new DashboardReader(dir, DashboardLayout.JSON, scan, staging, layers);
    }

    public Path directory() {
        return directory;
    }

    public DashboardLayout layout() {
        return layout;
    }

    /** The scan the dashboards were computed for (manifest or index), if recorded. */
    public Optional<String> scan() {
        return Optional.ofNullable(scan);
    }

    /** The layers present, ascending. */
    public List<Integer> layers() {
        return new ArrayList<>(layers.keySet());
    }

    /** Features of a layer. */
    public int features(int layer) {
        return layer(layer).features();
    }

    /** {@link #read(int, int)} of a paired feature id, the {@code feature} value of a graph's feature node. */
    public Optional<FeatureDashboard> read(long pairedId) {
        FeatureIds.LayerIndex li = FeatureIds.unpair(pairedId);
        if (li.index() > Integer.MAX_VALUE) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Paired feature id " + pairedId
                    + " decodes to layer " + li.layer() + ", feature " + li.index() + ", beyond any dictionary.");
        }
        return read(li.layer(), (int) li.index());
    }

    /**
     * The dashboard of a feature, or empty when the feature never fired on the corpus (a zero-length record; in the
     * per-feature layout, a feature the manifest lists as inactive).
     */
    public Optional<FeatureDashboard> read(int layer, int feature) {
        Layer l = layer(layer);
        if (feature < 0 || feature >= l.features()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Feature " + feature
                    + " is outside layer " + layer + "'s features [0, " + l.features() + ") in " + directory + ".");
        }
        return layout == DashboardLayout.PACKED ? readRecord(layer, feature, l) : readFile(layer, feature, l);
    }

    /** The bytes of a feature's record in the packed layout: {@code [offsets[f], offsets[f+1])} of its layer file. */
    public byte[] record(int layer, int feature) {
        Layer l = layer(layer);
        if (layout != DashboardLayout.PACKED || feature < 0 || feature >= l.features()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "No packed record for layer " + layer
                    + ", feature " + feature + " in " + directory + ".");
        }
        Path file = directory.resolve(l.filename());
        long from = l.offsets()[feature];
        long to = l.offsets()[feature + 1];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (to > ch.size()) {
                throw malformed(file, "is " + ch.size() + " bytes long, but " + DashboardWriter.INDEX
                        + " places feature " + feature + " at bytes [" + from + ", " + to + ")");
            }
            ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(to - from));
            while (b.hasRemaining() && ch.read(b, from + b.position()) >= 0) {
                // read until full
            }
            return b.array();
        } catch (NoSuchFileException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The layer file " + file + " named by "
                    + DashboardWriter.INDEX + " is missing; the dashboards directory is incomplete. Recompute it.", e);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot read " + file + ": " + e, e);
        }
    }

    private Optional<FeatureDashboard> readRecord(int layer, int feature, Layer l) {
        String where = directory.resolve(l.filename()) + " (layer " + layer + ", feature " + feature + ")";
        return recordJson(layer, feature).map(json -> FeatureJson.parse(json, layer, feature, where));
    }

    /**
     * The uncompressed JSON of a feature's packed record, or empty when the feature never fired (a zero-length
     * record); what a viewer serves as the feature's details without parsing them.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT for a layer or feature that is not there, or a directory in the
     *         per-feature layout; MALFORMED_FILE for a record that is cut short or does not decompress
     */
    public Optional<byte[]> recordJson(int layer, int feature) {
        byte[] record = record(layer, feature);
        if (record.length == 0) {
            return Optional.empty();
        }
        Path file = directory.resolve(layer(layer).filename());
        String where = file + " (layer " + layer + ", feature " + feature + ")";
        if (record.length < 4) {
            throw malformed(file, "holds a " + record.length + "-byte record for feature " + feature
                    + "; a record is a 4-byte length and a compressed payload");
        }
        long n = ByteBuffer.wrap(record, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFFFFFFL;
        if (4 + n > record.length) {
            throw malformed(file, "declares a " + n + "-byte payload for feature " + feature + " in a record of "
                    + record.length + " bytes");
        }
        return Optional.of(inflate(record, 4, (int) n, where));
    }

    private Optional<FeatureDashboard> readFile(int layer, int feature, Layer l) {
        if (l.inactive().get(feature)) {
            return Optional.empty(); // even if a file of an earlier set is still there
        }
        Path file = directory.resolve(FeatureIds.pair(layer, feature) + ".json");
        byte[] bytes;
        try {
            bytes = readCommitted(directory, staging, file.getFileName().toString());
        } catch (NoSuchFileException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The feature file " + file + " (layer "
                    + layer + ", feature " + feature + ") is missing, but " + DashboardWriter.MANIFEST + " lists the "
                    + "feature as active; the dashboards directory is incomplete. Recompute it.", e);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot read " + file + ": " + e, e);
        }
        return Optional.of(FeatureJson.parse(bytes, layer, feature, file.toString()));
    }

    private Layer layer(int layer) {
        Layer l = layers.get(layer);
        if (l == null) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Layer " + layer + " has no "
                    + "dashboards in " + directory + " (layers present: " + layers.keySet() + ").");
        }
        return l;
    }

    private static JsonNode manifest(Path dir) {
        Path file = dir.resolve(DashboardWriter.MANIFEST);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        JsonNode m;
        try {
            m = FeatureJson.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw malformedManifest(dir, "is not JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (m == null || !m.path("format").asText().equals(DashboardWriter.FORMAT)) {
            throw malformedManifest(dir, "is not a " + DashboardWriter.FORMAT + " manifest");
        }
        int version = m.path("format_version").asInt(-1);
        if (version < 1) {
            throw malformedManifest(dir, "has no valid format_version");
        }
        if (version > DashboardWriter.FORMAT_VERSION) {
            throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_FORMAT_VERSION, file + " is in format "
                    + "version " + version + "; this build reads version " + DashboardWriter.FORMAT_VERSION
                    + ". Use a newer circuit-tracer, or recompute the dashboards.");
        }
        JsonNode generation = m.path("generation");
        if (!generation.isMissingNode() && !(generation.isIntegralNumber() && generation.canConvertToLong()
                && generation.asLong() >= 0)) {
            throw malformedManifest(dir, "has generation " + generation + " (expected a non-negative integer)");
        }
        String layout = m.path("layout").asText();
        if (!layout.equals(DashboardLayout.PACKED.id()) && !layout.equals(DashboardLayout.JSON.id())) {
            throw malformedManifest(dir, "has layout '" + layout + "' (expected packed or json)");
        }
        return m;
    }

    /**
     * The bytes of a file of the committed set: the staged one while the writer has not yet moved it into place (see
     * {@link DashboardWriter#write}), else the directory's own.
     */
    private static byte[] readCommitted(Path dir, Path staging, String name) throws IOException {
        if (staging != null) {
            try {
                return Files.readAllBytes(staging.resolve(name));
            } catch (NoSuchFileException e) {
                // not staged, or moved into place since
            }
        }
        return Files.readAllBytes(dir.resolve(name));
    }

    private static JsonNode parseIndex(Path dir, Path staging) {
        Path file = dir.resolve(DashboardWriter.INDEX);
        byte[] bytes;
        try {
            bytes = readCommitted(dir, staging, DashboardWriter.INDEX);
        } catch (NoSuchFileException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The packed dashboards directory " + dir
                    + " has no " + DashboardWriter.INDEX + ". Recompute it, or give the directory that holds it.", e);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot read " + file + ": " + e, e);
        }
        boolean plain = bytes.length > 0 && (bytes[0] == '{' || bytes[0] == '[');
        byte[] json = plain ? bytes : inflate(bytes, 0, bytes.length, file.toString());
        try {
            JsonNode index = FeatureJson.MAPPER.readTree(json);
            if (index == null || !index.isObject() && !index.isArray()) {
                throw malformed(file, "is not a JSON object or array");
            }
            return index;
        } catch (IOException e) {
            throw malformed(file, "is not JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
    }

    private static TreeMap<Integer, Layer> packedLayers(Path dir, JsonNode index) {
        Path file = dir.resolve(DashboardWriter.INDEX);
        TreeMap<Integer, Layer> layers = new TreeMap<>();
        if (index.isArray()) {
            for (int l = 0; l < index.size(); l++) {
                layers.put(l, packedLayer(file, l, index.get(l)));
            }
        } else {
            index.fields().forEachRemaining(e -> {
                if (e.getKey().matches("\\d{1,9}")) {
                    int l = Integer.parseInt(e.getKey());
                    layers.put(l, packedLayer(file, l, e.getValue()));
                }
            });
        }
        if (layers.isEmpty()) {
            throw malformed(file, "lists no layers");
        }
        return layers;
    }

    private static Layer packedLayer(Path file, int layer, JsonNode entry) {
        String name = entry.path("filename").asText("");
        Path resolved;
        try {
            resolved = file.getParent().resolve(name).normalize();
        } catch (InvalidPathException e) { // a name no file can have here (a lone surrogate, a NUL)
            resolved = file.getParent();
        }
        if (name.isEmpty() || !resolved.startsWith(file.getParent()) || resolved.equals(file.getParent())
                || leavesByLink(file.getParent(), resolved)) {
            throw malformed(file, "gives layer " + layer + " the file name '" + name + "'; expected a file inside "
                    + file.getParent());
        }
        JsonNode o = entry.path("offsets");
        if (!o.isArray() || o.isEmpty()) {
            throw malformed(file, "gives layer " + layer + " no offsets");
        }
        long[] offsets = new long[o.size()];
        for (int i = 0; i < offsets.length; i++) {
            JsonNode v = o.get(i);
            offsets[i] = v.asLong(-1);
            if (!v.isIntegralNumber() || offsets[i] < 0 || i > 0 && offsets[i] < offsets[i - 1]) {
                throw malformed(file, "has offset " + v + " at position " + i + " of layer " + layer
                        + "; offsets are non-negative and non-decreasing");
            }
        }
        return new Layer(name, offsets, offsets.length - 1, new BitSet());
    }

    /** Whether {@code file} exists and is, or lies under, a symbolic link to a place outside {@code dir}. */
    private static boolean leavesByLink(Path dir, Path file) {
        try {
            return Files.exists(file) && !file.toRealPath().startsWith(dir.toRealPath());
        } catch (IOException e) {
            return false; // unreadable: reading the record reports it
        }
    }

    /** Inflates gzip (RFC 1952) or zlib (RFC 1950) data, detected from its header. */
    private static byte[] inflate(byte[] data, int offset, int length, String where) {
        boolean gzip = length >= 2 && (data[offset] & 0xFF) == 0x1F && (data[offset + 1] & 0xFF) == 0x8B;
        boolean zlib = length >= 2 && (data[offset] & 0x0F) == 8
                && (((data[offset] & 0xFF) << 8) | (data[offset + 1] & 0xFF)) % 31 == 0;
        if (!gzip && !zlib) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, where + " is neither gzip nor zlib "
                    + "compressed. Recompute the dashboards.");
        }
        ByteArrayInputStream raw = new ByteArrayInputStream(data, offset, length);
        try (InputStream in = gzip ? new GZIPInputStream(raw) : new InflaterInputStream(raw)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, where + " does not decompress ("
                    + e.getMessage() + "). Recompute the dashboards.", e);
        }
    }

    private static CircuitTracerException malformed(Path file, String problem) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + " " + problem
                + ". Recompute the dashboards.");
    }

    private static CircuitTracerException malformedManifest(Path dir, String problem) {
        return malformed(dir.resolve(DashboardWriter.MANIFEST), problem);
    }
}
