package org.circuittracer.viewer.files;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.viewer.graph.FeatureIds;

/**
 * Feature details (docs/reference/graph-format.md §4) from a local directory, in either layout: packed ({@code index.json.gz} naming
 * one {@code .bin} file per layer with byte offsets; each record a little-endian length and a gzip or zlib payload)
 * or one {@code <feature>.json} per feature, where {@code feature} is the node's paired id. Thread-safe; the index and
 * the activation frequencies are cached.
 */
public final class FeatureStore {

    public static final String PACKED_INDEX = "index.json.gz";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ServedDirectory directory;
    private final Map<Integer, Layer> layers = new ConcurrentHashMap<>();
    private final Map<Long, Double> frequencies = new ConcurrentHashMap<>();
    private volatile JsonNode index;

    private record Layer(Path file, long[] offsets) {
    }

    public FeatureStore(ServedDirectory directory) {
        this.directory = directory;
    }

    public ServedDirectory directory() {
        return directory;
    }

    /** Whether the directory holds the packed layout. */
    public boolean packed() {
        return Files.isRegularFile(directory.root().resolve(PACKED_INDEX));
    }

    /**
     * The feature object of paired id {@code feature}, as uncompressed JSON, or empty when the directory has no
     * details for it (no file, an empty record, or a layer or index beyond the packed index).
     *
     * @throws CircuitTracerException MALFORMED_FILE when the index or a record is corrupt
     */
    public Optional<byte[]> featureJson(long feature) {
        if (feature < 0) {
            return Optional.empty();
        }
        if (!packed()) {
            Path file = directory.root().resolve(feature + ".json");
            try {
                return Files.isRegularFile(file) ? Optional.of(Files.readAllBytes(directory.resolve(feature + ".json")))
                        : Optional.empty();
            } catch (IOException e) {
                throw malformed("Cannot read " + file + ": " + e.getMessage(), e);
            }
        }
        FeatureIds.LayerIndex li = FeatureIds.unpair(feature);
        Layer layer = layer(li.layer());
        if (layer == null || li.index() + 1 >= layer.offsets().length) {
            return Optional.empty();
        }
        long start = layer.offsets()[(int) li.index()];
        long end = layer.offsets()[(int) li.index() + 1];
        if (end == start) {
            return Optional.empty(); // the feature never fires
        }
        if (end < start + 4) {
            throw malformed("The packed record of feature " + feature + " in " + layer.file() + " is " + (end - start)
                    + " bytes, shorter than its 4-byte length prefix; rebuild the feature files.", null);
        }
        try (FileChannel ch = FileChannel.open(layer.file(), StandardOpenOption.READ)) {
            if (end > ch.size()) {
                throw malformed("The index says feature " + feature + " ends at byte " + end + " but " + layer.file()
                        + " has " + ch.size() + " bytes; rebuild the feature files.", null);
            }
            ByteBuffer buf = ByteBuffer.allocate((int) (end - start));
            while (buf.hasRemaining() && ch.read(buf, start + buf.position()) > 0) {
                // read the whole record
            }
            buf.flip().order(ByteOrder.LITTLE_ENDIAN);
            long n = Integer.toUnsignedLong(buf.getInt());
            if (n > buf.remaining()) {
                throw malformed("The packed record of feature " + feature + " in " + layer.file() + " declares " + n
                        + " payload bytes but has " + buf.remaining() + "; rebuild the feature files.", null);
            }
            byte[] payload = new byte[(int) n];
            buf.get(payload);
            return Optional.of(inflate(payload, "feature " + feature + " in " + layer.file()));
        } catch (IOException e) {
            throw malformed("Cannot read " + layer.file() + ": " + e.getMessage(), e);
        }
    }

    /** The feature's {@code activation_frequency}, when its details exist and carry one. */
    public OptionalDouble activationFrequency(long feature) {
        Double cached = frequencies.get(feature);
        if (cached == null) {
            cached = featureJson(feature).map(bytes -> {
                try {
                    JsonNode f = JSON.readTree(bytes).path("activation_frequency");
                    return f.isNumber() ? f.asDouble() : Double.NaN;
                } catch (IOException e) {
                    return Double.NaN;
                }
            }).orElse(Double.NaN);
            frequencies.put(feature, cached);
        }
        return cached.isNaN() ? OptionalDouble.empty() : OptionalDouble.of(cached);
    }

    private Layer layer(int layer) {
        Layer cached = layers.get(layer);
        if (cached != null) {
            return cached;
        }
        JsonNode entry = index();
        entry = entry.isArray() ? entry.path(layer) : entry.path(Integer.toString(layer));
        if (entry.isMissingNode() || entry.isNull()) {
            return null;
        }
        if (!entry.path("filename").isTextual() || !entry.path("offsets").isArray()) {
            throw malformed("Layer " + layer + " of " + PACKED_INDEX + " needs a \"filename\" string and an "
                    + "\"offsets\" array.", null);
        }
        JsonNode offsets = entry.get("offsets");
        long[] values = new long[offsets.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = offsets.get(i).asLong();
            if (i > 0 && values[i] < values[i - 1]) {
                throw malformed("The offsets of layer " + layer + " in " + PACKED_INDEX + " decrease at entry " + i
                        + "; rebuild the feature files.", null);
            }
        }
        Layer built = new Layer(directory.resolveFile(entry.get("filename").asText()), values);
        layers.put(layer, built);
        return built;
    }

    private JsonNode index() {
        JsonNode i = index;
        if (i == null) {
            Path file = directory.root().resolve(PACKED_INDEX);
            try {
                i = JSON.readTree(inflate(Files.readAllBytes(file), file.toString()));
            } catch (IOException e) {
                throw malformed(file + " is not compressed JSON: " + e.getMessage(), e);
            }
            if (i == null || !(i.isArray() || i.isObject())) {
                throw malformed(file + " must hold an array or object indexed by layer.", null);
            }
            index = i;
        }
        return i;
    }

    /** gzip (RFC 1952) or zlib (RFC 1950), told apart by the gzip magic bytes. */
    static byte[] inflate(byte[] data, String what) {
        boolean gzip = data.length >= 2 && (data[0] & 0xff) == 0x1f && (data[1] & 0xff) == 0x8b;
        try (InputStream in = gzip ? new GZIPInputStream(new ByteArrayInputStream(data))
                : new InflaterInputStream(new ByteArrayInputStream(data))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw malformed("Cannot decompress " + what + " (gzip or zlib expected): " + e.getMessage(), e);
        }
    }

    private static CircuitTracerException malformed(String message, Throwable cause) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, message, cause);
    }
}
