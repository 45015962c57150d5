package org.circuittracer.testkit.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.circuittracer.spi.CircuitTracerException;

/**
 * The one fuzz harness of circuit-tracer: seeded mutations of valid seed inputs, run through a parser, each case
 * checked against the <b>contract</b> of every reader of outside input:
 * <ul>
 *   <li>the input loads, or fails with a {@link CircuitTracerException} (any code) whose message is not blank;</li>
 *   <li>never another exception or error (no {@code NullPointerException}, {@code NumberFormatException},
 *       {@code StackOverflowError}, {@code OutOfMemoryError}, ...);</li>
 *   <li>never a hang: each case must finish within the per-case time limit;</li>
 *   <li>for readers of directories: no file outside the case's directory is created, changed or deleted.</li>
 * </ul>
 *
 * <p>Everything is deterministic from the seed: case {@code n} mutates with a random generator seeded from
 * {@code (seed, n)}, so one case can be rerun alone ({@code -Dfuzz.seed=S -Dfuzz.case=N}). The number of cases is
 * {@code -Dfuzz.cases} (default {@value #DEFAULT_CASES}; the root pom's {@code -Pfuzz} profile sets 100,000). Every
 * parser runs that many, as issue 22 asks (5,000 each in {@code mvn verify}, 100,000 each with {@code -Pfuzz}); a slow
 * parser's {@link #share(double) share} scales down only a quick run that asks for fewer than the default.
 *
 * <p>A violation fails with an {@link AssertionError} naming the fuzzer, the seed, the case number, the mutations,
 * the thrown exception and a hex and text dump of the input; the input is also written to
 * {@code target/fuzz-failures/}.
 *
 * <pre>{@code
 * Fuzzer.named("config.yaml").text().seeds(valid).run((input, dir) -> {
 *     Files.write(dir.resolve("config.yaml"), input);
 *     ReferenceConfig.read(dir);
 * });
 * }</pre>
 */
public final class Fuzzer {

    /** Cases per parser in an ordinary build ({@code mvn verify}). */
    public static final int DEFAULT_CASES = 5_000;
    /** The seed used unless {@code -Dfuzz.seed} is given. */
    public static final long DEFAULT_SEED = 20_261_207L;

    /** The code under test: parses {@code input}; {@code dir} is an empty directory of this case's own. */
    @FunctionalInterface
    public interface Target {
        void run(byte[] input, Path dir) throws Exception;
    }

    private final String name;
    private final List<byte[]> seeds = new ArrayList<>();
    private final List<String> extraStrings = new ArrayList<>();
    private boolean text;
    private double share = 1.0;
    private Duration timeLimit = Duration.ofSeconds(10);
    private long seed = Long.getLong("fuzz.seed", DEFAULT_SEED);
    private Integer cases;
    private boolean watchFiles;

    private Fuzzer(String name) {
        this.name = Objects.requireNonNull(name, "name");
    }

    /** A fuzzer for the parser called {@code name} (used in reports and file names). */
    public static Fuzzer named(String name) {
        return new Fuzzer(name);
    }

    /** Valid inputs to mutate (at least one). */
    public Fuzzer seeds(List<byte[]> valid) {
        valid.forEach(s -> seeds.add(s.clone()));
        return this;
    }

    /** Valid inputs given as UTF-8 text. */
    public Fuzzer seedTexts(List<String> valid) {
        valid.forEach(s -> seeds.add(s.getBytes(StandardCharsets.UTF_8)));
        return this;
    }

    /**
     * Also applies the mutations of structured text (JSON, YAML, command lines): duplicated keys, deeper nesting,
     * swapped lines. Number and string substitutions apply in both modes (binary formats carry text too).
     */
    public Fuzzer text() {
        this.text = true;
        return this;
    }

    /** Strings the string substitution may also use (for example names of keys or enum values of this format). */
    public Fuzzer strings(List<String> words) {
        extraStrings.addAll(words);
        return this;
    }

    /**
     * The fraction of a quick run's cases this parser runs (say 0.1 for a slow whole-directory load) when
     * {@code -Dfuzz.cases} is below {@value #DEFAULT_CASES}; ignored at the default and above ({@code mvn verify},
     * {@code -Pfuzz}).
     */
    public Fuzzer share(double fraction) {
        if (!(fraction > 0)) {
            throw new IllegalArgumentException("share must be positive: " + fraction);
        }
        this.share = fraction;
        return this;
    }

    /**
     * Checks, after every case, that no file outside the case's directory was created, changed or deleted (for
     * readers and writers of directories; costs a directory walk a case). Without it every case gets the same
     * directory, emptied after a case that wrote into it.
     */
    public Fuzzer watchFiles() {
        this.watchFiles = true;
        return this;
    }

    /** A fixed number of cases, ignoring {@code -Dfuzz.cases} (for the harness's own tests). */
    public Fuzzer cases(int count) {
        this.cases = count;
        return this;
    }

    /** The seed (default {@code -Dfuzz.seed}, else {@value #DEFAULT_SEED}). */
    public Fuzzer seed(long value) {
        this.seed = value;
        return this;
    }

    /** How long one case may take before it counts as a hang (default 10 s). */
    public Fuzzer timeLimit(Duration limit) {
        this.timeLimit = Objects.requireNonNull(limit);
        return this;
    }

    /** The number of cases {@link #run} will run. */
    public int caseCount() {
        if (cases != null) {
            return cases;
        }
        int base = Integer.getInteger("fuzz.cases", DEFAULT_CASES);
        // the build and the long run promise their count to every parser; shares only shorten quick runs
        return base >= DEFAULT_CASES ? base : Math.max(1, (int) Math.round(base * share));
    }

    /** The mutated input of case {@code n} and the mutations that made it. */
    public Mutations.Mutated input(int n) {
        if (seeds.isEmpty()) {
            throw new IllegalStateException(name + ": no seed inputs");
        }
        return new Mutations(seeds, text, extraStrings).mutate(caseRandom(seed, n));
    }

    /**
     * Runs every case (or only {@code -Dfuzz.case=N}) and checks the contract.
     *
     * @throws AssertionError on the first violation, with everything needed to reproduce it
     */
    public Result run(Target target) {
        Objects.requireNonNull(target);
        Integer only = Integer.getInteger("fuzz.case");
        int count = caseCount();
        Path root;
        try {
            root = Files.createTempDirectory("fuzz-" + safeName() + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-" + name);
            t.setDaemon(true);
            return t;
        });
        Map<String, Integer> codes = new TreeMap<>();
        int loaded = 0;
        int ran = 0;
        long start = System.nanoTime();
        try {
            Path canary = root.resolve("outside.txt");
            Files.writeString(canary, "a file outside the case directory; fuzzed readers must not touch it\n");
            for (int n = only == null ? 0 : only; n < (only == null ? count : only + 1); n++) {
                Mutations.Mutated in = input(n);
                Path dir = root.resolve("case");
                if (!Files.isDirectory(dir)) {
                    Files.createDirectory(dir);
                }
                Map<String, String> before = watchFiles ? snapshot(root, dir) : Map.of();
                Future<?> future = worker.submit(() -> {
                    target.run(in.bytes(), dir);
                    return null;
                });
                Throwable thrown = null;
                try {
                    future.get(timeLimit.toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    thrown = e.getCause();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("fuzz " + name + " interrupted", e);
                } catch (TimeoutException e) {
                    future.cancel(true);
                    worker.shutdownNow();
                    throw violation(n, in, "did not finish within " + timeLimit.toMillis() + " ms (a hang)", null);
                }
                ran++;
                if (thrown == null) {
                    loaded++;
                } else if (thrown instanceof CircuitTracerException cte) {
                    if (cte.getMessage() == null || cte.getMessage().isBlank()) {
                        throw violation(n, in, "threw a CircuitTracerException with a blank message", cte);
                    }
                    codes.merge(cte.errorCode().code(), 1, Integer::sum);
                } else {
                    throw violation(n, in, "threw " + thrown.getClass().getName()
                            + " instead of loading or throwing CircuitTracerException", thrown);
                }
                if (watchFiles) {
                    Map<String, String> after = snapshot(root, dir);
                    if (!after.equals(before)) {
                        throw violation(n, in, "created, changed or deleted files outside its directory: "
                                + difference(before, after), thrown);
                    }
                    deleteTree(dir);
                } else if (!isEmpty(dir)) {
                    deleteTree(dir);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            worker.shutdownNow();
            try {
                deleteTree(root);
            } catch (IOException | RuntimeException ignored) {
                // a leftover temporary directory is harmless
            }
        }
        Result result = new Result(name, seed, ran, loaded, codes, Duration.ofNanos(System.nanoTime() - start),
                only != null);
        System.out.println(result);
        return result;
    }

    /** What a run saw: how many cases loaded and how many failed with each error code. */
    public record Result(String name, long seed, int cases, int loaded, Map<String, Integer> errorCodes,
            Duration elapsed, boolean reproduction) {
        /** Cases that failed with a {@link CircuitTracerException}. */
        public int rejected() {
            return cases - loaded;
        }

        /**
         * Fails unless some case loaded: the mutations must leave valid inputs too. Checks nothing when one case was
         * rerun ({@code -Dfuzz.case}).
         */
        public Result assertSomeLoaded() {
            if (!reproduction && loaded == 0) {
                throw new AssertionError("fuzz " + name + ": none of " + cases + " cases loaded; are the seeds valid?");
            }
            return this;
        }

        /** Fails unless some case was rejected (the mutations reach the checks); nothing when one case was rerun. */
        public Result assertSomeRejected() {
            if (!reproduction && rejected() == 0) {
                throw new AssertionError("fuzz " + name + ": all " + cases + " cases loaded; the mutations reach no check");
            }
            return this;
        }

        @Override
        public String toString() {
            return "fuzz " + name + ": " + (reproduction ? "case " + Integer.getInteger("fuzz.case") + " alone"
                    : cases + " cases") + " (seed " + seed + ") in " + elapsed.toMillis() + " ms: "
                    + loaded + " loaded, " + rejected() + " rejected " + errorCodes;
        }
    }

    // ------------------------------------------------------------------------------------------------ internals

    static SplittableRandom caseRandom(long seed, int n) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + n);
    }

    private String safeName() {
        return name.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    private AssertionError violation(int n, Mutations.Mutated in, String what, Throwable cause) {
        String saved = "";
        try {
            Path dir = Files.createDirectories(Path.of("target", "fuzz-failures"));
            Path file = dir.resolve(safeName() + "-" + seed + "-" + n + ".bin");
            Files.write(file, in.bytes());
            saved = "\ninput saved to " + file.toAbsolutePath();
        } catch (IOException | RuntimeException ignored) {
            // the dump below is enough
        }
        String message = "fuzz " + name + ": case " + n + " (seed " + seed + ") " + what + "\n"
                + "mutations: " + in.mutations() + "\n"
                + (cause == null ? "" : "exception: " + cause + "\n")
                + "reproduce: -Dfuzz.seed=" + seed + " -Dfuzz.case=" + n + saved + "\n"
                + "input (" + in.bytes().length + " bytes):\n" + Dump.of(in.bytes(), 2048);
        return new AssertionError(message, cause);
    }

    /** Every file under {@code root} except under {@code skip}: relative path to size and modification time. */
    private static Map<String, String> snapshot(Path root, Path skip) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (p.startsWith(skip) || p.equals(root)) {
                    continue;
                }
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                files.put(root.relativize(p).toString(), a.isDirectory() ? "dir" : a.size() + "@"
                        + a.lastModifiedTime().toMillis());
            }
        }
        return files;
    }

    private static String difference(Map<String, String> before, Map<String, String> after) {
        List<String> changes = new ArrayList<>();
        after.forEach((k, v) -> {
            if (!v.equals(before.get(k))) {
                changes.add((before.containsKey(k) ? "changed " : "created ") + k);
            }
        });
        before.keySet().stream().filter(k -> !after.containsKey(k)).forEach(k -> changes.add("deleted " + k));
        return String.join(", ", changes);
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.findAny().isEmpty();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
