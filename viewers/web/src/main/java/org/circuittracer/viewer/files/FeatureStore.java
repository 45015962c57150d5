package org.circuittracer.viewer.files;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.ConcurrentHashMap;
import org.circuittracer.attribution.export.FeatureIds;
import org.circuittracer.dashboards.files.DashboardLayout;
import org.circuittracer.dashboards.files.DashboardReader;
import org.circuittracer.dashboards.files.DashboardWriter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * Feature details (docs/reference/graph-format.md §4) from a local directory, in either layout: packed ({@code index.json.gz} naming
 * one {@code .bin} file per layer with byte offsets; each record a little-endian length and a gzip or zlib payload),
 * read by the dashboards' {@link DashboardReader}, or one {@code <feature>.json} per feature, where {@code feature} is
 * the node's paired id. Thread-safe; the packed index and the activation frequencies are cached.
 */
public final class FeatureStore {

    public static final String PACKED_INDEX = DashboardWriter.INDEX;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ServedDirectory directory;
    private final Map<Long, Double> frequencies = new ConcurrentHashMap<>();
    private volatile DashboardReader reader;

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
        if (packed()) {
            DashboardReader packed = reader();
            if (packed.layout() == DashboardLayout.PACKED) {
                FeatureIds.LayerIndex li = FeatureIds.unpair(feature);
                if (!packed.layers().contains(li.layer()) || li.index() >= packed.features(li.layer())) {
                    return Optional.empty();
                }
                return packed.recordJson(li.layer(), (int) li.index());
            }
        }
        Path file = directory.root().resolve(feature + ".json");
        try {
            return Files.isRegularFile(file) ? Optional.of(Files.readAllBytes(directory.resolve(feature + ".json")))
                    : Optional.empty();
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "Cannot read " + file + ": "
                    + e.getMessage(), e);
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

    /** The packed directory's reader, opened at the first request (its index is read once). */
    private DashboardReader reader() {
        DashboardReader r = reader;
        if (r == null) {
            r = DashboardReader.open(directory.root());
            reader = r;
        }
        return r;
    }
}
