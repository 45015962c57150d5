package org.circuittracer.transcoders.mp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.site.SiteKind;

/**
 * {@code matching-pursuit.json}: what a matching-pursuit dictionary directory holds.
 *
 * @param format        always {@value #FORMAT}
 * @param formatVersion {@value #VERSION}; other versions are refused with distinct errors
 * @param layers        number of layers, files {@code layer_0 … layer_{L−1}}
 * @param width         input and output width {@code d}
 * @param features      features per layer {@code F}
 * @param steps         pursuit steps per position (at most this many features fire)
 * @param readSite      the input hook name, e.g. {@code hook_resid_mid}
 * @param writeSite     the output hook name, e.g. {@code mlp.hook_out}
 * @param scan          identifier for feature visualisations (empty: the directory path)
 */
public record MatchingPursuitManifest(String format, int formatVersion, int layers, int width, int features, int steps,
                                      String readSite, String writeSite, String scan) {

    public static final String FILE = "matching-pursuit.json";
    public static final String FORMAT = "matching-pursuit-transcoder";
    public static final int VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(SerializationFeature.INDENT_OUTPUT);

    /** A manifest for version {@value #VERSION}. */
    public static MatchingPursuitManifest of(int layers, int width, int features, int steps, SiteKind readSite,
                                             SiteKind writeSite, String scan) {
        return new MatchingPursuitManifest(FORMAT, VERSION, layers, width, features, steps, readSite.hookName(),
                writeSite.hookName(), scan);
    }

    /** Reads and checks {@code directory/matching-pursuit.json}. */
    public static MatchingPursuitManifest read(Path directory) {
        Path file = directory.resolve(FILE);
        MatchingPursuitManifest manifest;
        try {
            manifest = JSON.readValue(Files.readAllBytes(file), MatchingPursuitManifest.class);
        } catch (NoSuchFileException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "No " + FILE + " in " + directory
                    + ". Point to a directory written by the matching-pursuit writer.", e);
        } catch (JsonProcessingException e) {
            throw malformed(file, "it is not a valid manifest: " + e.getOriginalMessage());
        } catch (java.io.CharConversionException e) {
            throw malformed(file, "it is not UTF-8 text: " + e.getMessage());
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot read " + file + ": "
                    + e.getMessage(), e);
        }
        if (manifest == null) {
            throw malformed(file, "it holds JSON null, not a manifest object");
        }
        return manifest.validated(file);
    }

    /** Writes this manifest as {@code directory/matching-pursuit.json}. */
    void write(Path directory) throws IOException {
        Files.write(directory.resolve(FILE), JSON.writeValueAsBytes(this));
    }

    public SiteKind readSiteKind() {
        return SiteKind.fromHookName(readSite).orElseThrow();
    }

    public SiteKind writeSiteKind() {
        return SiteKind.fromHookName(writeSite).orElseThrow();
    }

    private MatchingPursuitManifest validated(Path file) {
        if (!FORMAT.equals(format)) {
            throw malformed(file, "field 'format' is '" + format + "', expected '" + FORMAT + "'");
        }
        if (formatVersion > VERSION) {
            throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_FORMAT_VERSION, file + " has format version "
                    + formatVersion + ", newer than the " + VERSION + " this build reads. Upgrade circuit-tracer.");
        }
        if (formatVersion < VERSION) {
            throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_FORMAT_VERSION, file + " has format version "
                    + formatVersion + ", older than any this build reads (" + VERSION + "). Re-export the dictionary.");
        }
        if (layers < 1 || width < 1 || features < 1 || steps < 1) {
            throw malformed(file, "layers, width, features and steps must be positive (got " + layers + ", " + width
                    + ", " + features + ", " + steps + ")");
        }
        SiteKind read = SiteKind.fromHookName(String.valueOf(readSite)).orElse(null);
        if (read != SiteKind.RESID_MID && read != SiteKind.LN2_NORMALIZED && read != SiteKind.MLP_IN) {
            throw malformed(file, "field 'readSite' is '" + readSite
                    + "'; use hook_resid_mid, ln2.hook_normalized or mlp.hook_in");
        }
        SiteKind write = SiteKind.fromHookName(String.valueOf(writeSite)).orElse(null);
        if (write != SiteKind.MLP_OUT && write != SiteKind.MLP_OUT_RAW) {
            throw malformed(file, "field 'writeSite' is '" + writeSite + "'; use mlp.hook_out or hook_mlp_out");
        }
        return this;
    }

    static CircuitTracerException malformed(Path file, String problem) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + ": " + problem + ".");
    }
}
