package org.circuittracer.transcoders.common;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.site.SiteKind;

/**
 * The {@link DictionarySource} options the community formats share: {@code readSite} and {@code writeSite} (hook names
 * such as {@code mlp.hook_in} and {@code mlp.hook_out}, overriding what the files say or imply) and {@code scan} (the
 * feature-visualisation id; default the directory's absolute path).
 *
 * @param readSite  the input site of every layer, if given
 * @param writeSite the output site of every layer, if given
 * @param scan      the scan, if given
 */
public record FormatOptions(Optional<SiteKind> readSite, Optional<SiteKind> writeSite, Optional<String> scan) {

    public static final String READ_SITE = "readSite";
    public static final String WRITE_SITE = "writeSite";
    public static final String SCAN = "scan";
    private static final Set<String> ALL = Set.of(READ_SITE, WRITE_SITE, SCAN);

    /**
     * Reads the options of {@code source} for {@code format}.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT for an unknown option or a site that a transcoder cannot read or
     *                                write
     */
    public static FormatOptions of(DictionarySource source, String format) {
        Map<String, String> options = source.options();
        Set<String> unknown = new TreeSet<>(options.keySet());
        unknown.removeAll(ALL);
        if (!unknown.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Unknown option"
                    + (unknown.size() == 1 ? " " : "s ") + unknown + " for the " + format + " format; it takes "
                    + READ_SITE + ", " + WRITE_SITE + " (hook names such as mlp.hook_in, hook_mlp_out) and " + SCAN
                    + ".");
        }
        return new FormatOptions(site(options, READ_SITE, Transcoders.INPUT_SITES),
                site(options, WRITE_SITE, Transcoders.OUTPUT_SITES), Optional.ofNullable(options.get(SCAN)));
    }

    /** The scan: the option, else the directory's absolute, normalised path (as the reference does for local sets). */
    public String scanOr(DictionarySource source) {
        return scan.orElseGet(() -> Transcoders.localScan(source.directory()));
    }

    private static Optional<SiteKind> site(Map<String, String> options, String key, Set<SiteKind> allowed) {
        String name = options.get(key);
        if (name == null) {
            return Optional.empty();
        }
        return Optional.of(SiteKind.fromHookName(name).filter(allowed::contains).orElseThrow(() ->
                new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Option " + key + "=" + name
                        + " is not a site a transcoder " + (key.equals(READ_SITE) ? "reads" : "writes")
                        + "; use one of " + allowed.stream().map(SiteKind::hookName).sorted().collect(Collectors.joining(", ")) + ".")));
    }
}
