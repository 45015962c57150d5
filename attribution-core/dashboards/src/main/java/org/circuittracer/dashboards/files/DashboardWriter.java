package org.circuittracer.dashboards.files;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import org.circuittracer.attribution.export.FeatureIds;
import org.circuittracer.attribution.io.AtomicFiles;
import org.circuittracer.dashboards.CollectedDashboards;
import org.circuittracer.dashboards.DashboardListener;
import org.circuittracer.dashboards.DashboardOptions;
import org.circuittracer.dashboards.DashboardPhase;
import org.circuittracer.dashboards.FeatureDashboard;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * Writes collected dashboards into a directory in either layout of docs/reference/graph-format.md §4, plus {@code dashboards.json}
 * (the manifest: scan, model, corpus counts, settings, and which features never fired).
 *
 * <p>Packed: {@code layer_<L>.bin} holds, for features {@code 0 … F−1} in order, a 4-byte little-endian length
 * {@code N} and {@code N} bytes of gzip-compressed feature JSON; a feature that never fired has a zero-length record.
 * {@code index.json.gz} (gzip JSON) maps each layer, as the key {@code "<L>"}, to {@code filename} and
 * {@code offsets} ({@code F + 1} byte offsets), beside the informational keys {@code version}, {@code format} and
 * {@code scan}. Per-feature JSON: {@code <z>.json} for every feature that fired, {@code z} the paired id.
 *
 * <p>A directory always holds one complete set, even if the writer is killed at any point: {@code dashboards.json}
 * carries a {@code generation}, and writing it is the one commit point of a write. Before it, the new set is staged
 * where the current set's readers do not look: per-feature files and the index in the hidden directory
 * {@code .dashboards-staging-<g>}, layer files under names the current index does not use ({@code layer_<L>.1.bin},
 * ...). After it, the staged files are moved into place one by one ({@link DashboardReader} reads a file from the
 * committed generation's staging directory while it is still there, so it sees the new set throughout), and files of
 * our naming patterns that the new set does not use (the old layer files, the other layout's files, features that no
 * longer fire) are deleted, the index before the layer files it names. A killed write is finished or discarded by
 * {@link #recover}, which the next write runs first. The directory must be new, empty, or hold a
 * {@code dashboards.json} from an earlier run.
 */
public final class DashboardWriter {

    public static final String MANIFEST = "dashboards.json";
    public static final String INDEX = "index.json.gz";
    public static final String FORMAT = "circuit-tracer-feature-dashboards";
    public static final int FORMAT_VERSION = 1;

    static final Pattern FEATURE_FILE = Pattern.compile("\\d+\\.json");
    static final Pattern LAYER_FILE = Pattern.compile("layer_\\d+(\\.\\d+)?\\.bin");
    /** {@link AtomicFiles}' temporary files: {@code .<name>.<random hex>.tmp}. */
    static final Pattern TEMPORARY = Pattern.compile("\\.(.+)\\.[0-9a-f]+\\.tmp");
    /** Staged files of generation {@code g} wait in {@code .dashboards-staging-<g>} until the manifest commits them. */
    static final String STAGING_PREFIX = ".dashboards-staging-";

    /**
     * What a write killed before this long ago left may be cleaned up by a reader that cannot tell whether a writer
     * is still at work (a server starting beside a running {@code features} command): a running write changes its
     * staged files, temporary files or the directory every few seconds (each staged file, each layer file as it
     * grows, each rename), so ten minutes without a change leaves a wide margin for a slow disk.
     */
    public static final Duration STALE_AFTER = Duration.ofMinutes(10);

    /**
     * Called between the steps of a write ("staged", "committed", "moved", "rolled forward"), for tests that stop or
     * slow a writer there; {@code null} in production.
     */
    static volatile java.util.function.Consumer<String> stepHook;

    /**
     * What was written.
     *
     * @param directory the output directory
     * @param layout    its layout
     * @param features  features with a dashboard (the others never fired)
     * @param bytes     bytes written (feature data, index and manifest)
     */
    public record Result(Path directory, DashboardLayout layout, long features, long bytes) {
    }

    private DashboardWriter() {
    }

    /**
     * Writes {@code dashboards} into {@code directory} (created if missing).
     *
     * <p>Crash-safe as a set: the new files are staged (per-feature files and the index in
     * {@code .dashboards-staging-<g>}, layer files under names the current index does not use), and the manifest,
     * written atomically with the new generation {@code g}, is the one commit point. A writer killed before it leaves
     * the previous set; after it, the new one ({@link DashboardReader} reads staged files first, and the next write,
     * or {@link #recover}, moves them into place).
     *
     * @throws CircuitTracerException INVALID_ARGUMENT when the directory holds other files; FILE_NOT_FOUND when
     *         writing fails; CANCELLED when the listener cancels (the previous set stays; nothing of the new one is
     *         visible)
     */
    public static Result write(CollectedDashboards dashboards, Path directory, DashboardLayout layout,
                               DashboardListener listener) {
        Path dir = directory.toAbsolutePath();
        prepare(dir);
        long generation = recover(dir) + 1;
        Set<String> previous = prepare(dir); // after the recovery, which may have moved files into place
        Path staging = dir.resolve(stagingName(generation));
        try {
            Files.createDirectories(staging);
        } catch (IOException e) {
            throw AtomicFiles.cannotWrite(staging, e);
        }
        boolean committed = false;
        try {
            Result result = write(dashboards, dir, layout, listener, previous, generation, staging);
            committed = true;
            return result;
        } finally {
            if (!committed && committedGeneration(dir) != generation) {
                deleteTree(staging); // a failed or cancelled write: the previous set stays as it was
            }
        }
    }

    private static Result write(CollectedDashboards dashboards, Path dir, DashboardLayout layout,
                                DashboardListener listener, Set<String> previous, long generation, Path staging) {
        long start = System.nanoTime();
        listener.phaseStarted(DashboardPhase.WRITE, dashboards.layers());
        Set<String> written = new HashSet<>();
        long features = 0;
        long bytes = 0;
        ObjectNode index = FeatureJson.MAPPER.createObjectNode();
        index.put("version", "1.0");
        index.put("format", "variable_chunks");
        index.put("scan", dashboards.scan());
        for (int layer = 0; layer < dashboards.layers(); layer++) {
            if (listener.isCancelled()) {
                throw new CircuitTracerException(StandardErrorCode.CANCELLED, "Writing dashboards cancelled at layer "
                        + layer + ".");
            }
            if (layout == DashboardLayout.JSON) {
                for (int f = 0; f < dashboards.features(layer); f++) {
                    Optional<FeatureDashboard> d = dashboards.dashboard(layer, f);
                    if (d.isPresent()) {
                        String name = FeatureIds.pair(layer, f) + ".json";
                        byte[] json = FeatureJson.toBytes(d.get());
                        stage(staging.resolve(name), json);
                        written.add(name);
                        features++;
                        bytes += json.length;
                    }
                }
            } else {
                String name = freshLayerName(layer, previous);
                long[] offsets = writeLayer(dashboards, layer, dir.resolve(name));
                ObjectNode entry = index.putObject(Integer.toString(layer));
                entry.put("filename", name);
                ArrayNode o = entry.putArray("offsets");
                for (long offset : offsets) {
                    o.add(offset);
                }
                written.add(name);
                for (int f = 0; f < dashboards.features(layer); f++) {
                    features += offsets[f + 1] > offsets[f] ? 1 : 0;
                }
                bytes += offsets[offsets.length - 1];
            }
            listener.progress(DashboardPhase.WRITE, layer + 1, dashboards.layers(), 0);
        }
        if (layout == DashboardLayout.PACKED) {
            index.put("generation", generation);
            byte[] gz = gzip(json(index, false));
            stage(staging.resolve(INDEX), gz);
            written.add(INDEX);
            bytes += gz.length;
        }
        syncStaging(staging);
        step("staged");
        // the commit point: from here on readers see the new set (staged files shadow the directory's own)
        ObjectNode m = manifest(dashboards, layout);
        m.put("generation", generation);
        byte[] manifest = json(m, true);
        AtomicFiles.write(dir.resolve(MANIFEST), manifest, true);
        bytes += manifest.length;
        step("committed");
        rollForward(dir, staging);
        step("rolled forward");
        if (previous.contains(INDEX) && !written.contains(INDEX)) {
            AtomicFiles.deleteQuietly(dir.resolve(INDEX)); // before the layer files it names
        }
        for (String name : previous) {
            if (!written.contains(name)) {
                AtomicFiles.deleteQuietly(dir.resolve(name));
            }
        }
        listener.phaseFinished(DashboardPhase.WRITE, System.nanoTime() - start);
        return new Result(dir, layout, features, bytes);
    }

    private static void step(String name) {
        java.util.function.Consumer<String> hook = stepHook;
        if (hook != null) {
            hook.accept(name);
        }
    }

    /** The staging directory of a generation: {@code .dashboards-staging-<g>}. */
    static String stagingName(long generation) {
        return STAGING_PREFIX + generation;
    }

    /**
     * Brings a directory left by a killed writer back to one complete set, and returns the generation of the set it
     * holds ({@code 0} without a manifest, or for one written before generations): finishes the commit of the
     * current generation (moves its staged files into place), deletes the staging directories of writes that never
     * committed, and deletes temporary files of our names ({@code .<name>.<random>.tmp}). {@link #write} calls it
     * first; a reader that cannot rule out a running writer calls {@link #recoverStale} instead.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND when the directory cannot be written
     */
    public static long recover(Path directory) {
        Path dir = directory.toAbsolutePath();
        long generation = committedGeneration(dir);
        List<Path> stale = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                if (name.startsWith(STAGING_PREFIX) && !name.equals(stagingName(generation))) {
                    stale.add(p);
                }
            }
        } catch (NoSuchFileException e) {
            return generation;
        } catch (IOException e) {
            throw AtomicFiles.cannotWrite(dir, e);
        }
        Path committed = dir.resolve(stagingName(generation));
        if (generation > 0 && Files.isDirectory(committed)) {
            rollForward(dir, committed);
        }
        for (Path p : stale) {
            deleteTree(p);
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                Matcher m = TEMPORARY.matcher(p.getFileName().toString());
                if (m.matches() && ours(m.group(1))) {
                    AtomicFiles.deleteQuietly(p);
                }
            }
        } catch (IOException e) {
            throw AtomicFiles.cannotWrite(dir, e);
        }
        return generation;
    }

    /** What {@link #recoverStale} did. */
    public enum Recovery {
        /** No staging directory or temporary file of ours: nothing to recover. */
        NOTHING_LEFT,
        /** A killed write was finished or discarded ({@link #recover}). */
        RECOVERED,
        /** Something changed within {@link #STALE_AFTER}: a writer may be at work, so everything was left alone. */
        LEFT_FOR_A_RUNNING_WRITER
    }

    /**
     * {@link #recover} for readers that may run beside a writer (the viewer at startup): only when the directory holds
     * what a killed write leaves (a staging directory or a temporary file of ours) and neither those, nor what is in
     * them, nor the directory itself changed within {@code staleAfter}; else nothing is touched.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND when recovering fails (a directory that cannot be written)
     */
    public static Recovery recoverStale(Path directory, Duration staleAfter) {
        Path dir = directory.toAbsolutePath();
        FileTime cutoff = FileTime.from(Instant.now().minus(staleAfter));
        boolean leftovers = false;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            boolean fresh = Files.getLastModifiedTime(dir).compareTo(cutoff) > 0;
            for (Path p : entries) {
                String name = p.getFileName().toString();
                Matcher m = TEMPORARY.matcher(name);
                if (name.startsWith(STAGING_PREFIX) || m.matches() && ours(m.group(1))) {
                    leftovers = true;
                    fresh |= changedSince(p, cutoff);
                }
            }
            if (!leftovers) {
                return Recovery.NOTHING_LEFT;
            }
            if (fresh) {
                return Recovery.LEFT_FOR_A_RUNNING_WRITER;
            }
        } catch (NoSuchFileException e) {
            return Recovery.NOTHING_LEFT;
        } catch (IOException e) {
            throw AtomicFiles.cannotWrite(dir, e);
        }
        recover(dir);
        return Recovery.RECOVERED;
    }

    /** Whether {@code p}, or a file directly in it, was modified after {@code cutoff}. */
    private static boolean changedSince(Path p, FileTime cutoff) throws IOException {
        if (Files.getLastModifiedTime(p).compareTo(cutoff) > 0) {
            return true;
        }
        if (Files.isDirectory(p)) {
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(p)) {
                for (Path child : entries) {
                    if (Files.getLastModifiedTime(child).compareTo(cutoff) > 0) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** The generation of the manifest in {@code dir}: 0 when there is none, it does not parse, or it has none. */
    static long committedGeneration(Path dir) {
        Path file = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(file)) {
            return 0;
        }
        try {
            JsonNode g = FeatureJson.MAPPER.readTree(file.toFile()).path("generation");
            return g.canConvertToLong() && g.isIntegralNumber() && g.asLong() >= 0 ? g.asLong() : 0;
        } catch (IOException | RuntimeException e) {
            return 0; // a torn manifest cannot be ours (it is written atomically); it is replaced by this write
        }
    }

    private static boolean ours(String name) {
        return FEATURE_FILE.matcher(name).matches() || LAYER_FILE.matcher(name).matches() || name.equals(INDEX)
                || name.equals(MANIFEST);
    }

    /** Writes a file of the staging directory: nobody reads it before the commit, so no temporary file is needed. */
    private static void stage(Path file, byte[] bytes) {
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw AtomicFiles.cannotWrite(file, e);
        }
    }

    /**
     * Forces the staged index to disk before the manifest that commits it. Per-feature files are not forced, one
     * {@code fsync} each would multiply the time of a write (as before staging, they survive a killed process but
     * not necessarily a power failure).
     */
    private static void syncStaging(Path staging) {
        Path index = staging.resolve(INDEX);
        if (Files.exists(index)) {
            try (FileChannel ch = FileChannel.open(index, StandardOpenOption.WRITE)) {
                ch.force(true);
            } catch (IOException e) {
                throw AtomicFiles.cannotWrite(index, e);
            }
        }
        try (FileChannel ch = FileChannel.open(staging, StandardOpenOption.READ)) {
            ch.force(true); // the staged names too
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort, as AtomicFiles does for directories
        }
    }

    /** Moves every staged file over its namesake in {@code dir} (each rename atomic), then removes the staging. */
    private static void rollForward(Path dir, Path staging) {
        try {
            List<Path> files = new ArrayList<>();
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(staging)) {
                entries.forEach(files::add);
            }
            for (int i = 0; i < files.size(); i++) {
                Path p = files.get(i);
                AtomicFiles.move(p, dir.resolve(p.getFileName().toString()), i == files.size() - 1); // one dir sync
                step("moved");
            }
            deleteTree(staging);
        } catch (IOException e) {
            throw AtomicFiles.cannotWrite(dir, e);
        }
    }

    private static void deleteTree(Path p) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(p)) {
            for (Path child : entries) {
                AtomicFiles.deleteQuietly(child);
            }
        } catch (IOException ignored) {
            // not a directory, or gone
        }
        AtomicFiles.deleteQuietly(p);
    }

    /** Creates the directory or checks that it is ours; returns the names of our files already there. */
    private static Set<String> prepare(Path dir) {
        Set<String> ours = new HashSet<>();
        try {
            Files.createDirectories(dir);
            boolean foreign = false;
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
                for (Path p : entries) {
                    String name = p.getFileName().toString();
                    if (FEATURE_FILE.matcher(name).matches() || LAYER_FILE.matcher(name).matches()
                            || name.equals(INDEX)) {
                        ours.add(name);
                    } else if (!name.equals(MANIFEST) && !name.startsWith(".")) {
                        foreign = true;
                    }
                }
            }
            if ((foreign || !ours.isEmpty()) && !Files.isRegularFile(dir.resolve(MANIFEST))) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The output directory " + dir
                        + " is not empty and holds no " + MANIFEST + " from an earlier run. Choose a new or empty "
                        + "directory (the writer deletes stale feature files, so it only reuses its own).");
            }
        } catch (IOException e) {
            throw AtomicFiles.cannotWrite(dir, e);
        }
        return ours;
    }

    /** {@code layer_<L>.bin}, or {@code layer_<L>.<n>.bin} when an earlier run's index may still use that name. */
    private static String freshLayerName(int layer, Set<String> previous) {
        String name = "layer_" + layer + ".bin";
        for (int n = 1; previous.contains(name); n++) {
            name = "layer_" + layer + "." + n + ".bin";
        }
        return name;
    }

    /** Streams one layer's records into {@code file}; returns the {@code F + 1} offsets. */
    private static long[] writeLayer(CollectedDashboards dashboards, int layer, Path file) {
        int features = dashboards.features(layer);
        long[] offsets = new long[features + 1];
        Path tmp = AtomicFiles.temporaryFor(file);
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                long position = 0;
                for (int f = 0; f < features; f++) {
                    offsets[f] = position;
                    Optional<FeatureDashboard> d = dashboards.dashboard(layer, f);
                    if (d.isPresent()) {
                        byte[] payload = gzip(FeatureJson.toBytes(d.get()));
                        ByteBuffer b = ByteBuffer.allocate(4 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
                        b.putInt(payload.length).put(payload).flip();
                        while (b.hasRemaining()) {
                            position += ch.write(b);
                        }
                    }
                }
                offsets[features] = position;
                ch.force(true);
            }
            AtomicFiles.move(tmp, file, true);
            done = true;
        } catch (IOException e) {
            throw AtomicFiles.cannotWrite(file, e);
        } finally {
            if (!done) {
                AtomicFiles.deleteQuietly(tmp);
            }
        }
        return offsets;
    }

    private static ObjectNode manifest(CollectedDashboards d, DashboardLayout layout) {
        ObjectNode m = FeatureJson.MAPPER.createObjectNode();
        m.put("format", FORMAT);
        m.put("format_version", FORMAT_VERSION);
        m.put("layout", layout.id());
        m.put("scan", d.scan());
        m.put("model", d.modelName());
        ObjectNode corpus = m.putObject("corpus");
        corpus.put("documents", d.documents());
        corpus.put("sequences", d.sequences());
        corpus.put("tokens", d.tokens());
        DashboardOptions o = d.options();
        ObjectNode settings = m.putObject("settings");
        settings.put("top_examples", o.topExamples());
        settings.put("context_before", o.contextBefore());
        settings.put("context_after", o.contextAfter());
        settings.put("max_sequence_length", o.maxSequenceLength());
        settings.put("quantile_bands", o.quantileBands());
        settings.put("examples_per_band", o.examplesPerBand());
        settings.put("quantile_sample_size", o.quantileSampleSize());
        settings.put("histogram_bins", o.histogramBins());
        settings.put("output_tokens", o.outputTokens());
        ArrayNode layers = m.putArray("layers");
        for (int l = 0; l < d.layers(); l++) {
            ObjectNode layer = layers.addObject();
            layer.put("features", d.features(l));
            List<Integer> inactive = new ArrayList<>();
            for (int f = 0; f < d.features(l); f++) {
                if (d.activations(l, f) == 0) {
                    inactive.add(f);
                }
            }
            layer.put("active", d.features(l) - inactive.size());
            inactive.forEach(layer.putArray("inactive")::add);
        }
        return m;
    }

    private static byte[] json(ObjectNode node, boolean pretty) {
        try {
            return pretty ? FeatureJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(node)
                    : FeatureJson.MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Cannot serialise " + node.path("format")
                    + ": " + e.getOriginalMessage(), e);
        }
    }

    static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length / 3 + 64);
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Cannot compress: " + e, e);
        }
        return out.toByteArray();
    }
}
