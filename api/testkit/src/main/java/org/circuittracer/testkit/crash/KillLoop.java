package org.circuittracer.testkit.crash;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Kills a writer at seeded random points of its writes ({@code kill -9}: no shutdown hook, no finally block runs) and
 * checks the files after every kill, until {@code -Dcrash.writes} writes (default {@value #DEFAULT_WRITES}) were
 * started and {@code -Dcrash.kills} kills (default 0) were made. Each kill costs a JVM start, so the ordinary build
 * runs a few; issue 22's figure is {@code -Dcrash.writes=1000 -Dcrash.kills=1000}.
 *
 * <p>The writer is the {@code main} of a class on the test class path, run in a child JVM with the given arguments
 * and, last, the number of its first write {@code n}. Before it starts write {@code n}, {@code n + 1}, ..., it prints
 * the line {@code writing <n>} (flushed), and it writes for ever. So after a kill, write {@code lastAnnounced} may be
 * torn, and every file must hold write {@code lastAnnounced} or {@code lastAnnounced - 1} (or, killed in its first
 * write, what it held before); the next child goes on from {@code lastAnnounced + 1}.
 *
 * <pre>{@code
 * KillLoop.Result r = KillLoop.of(WriterMain.class, dir.toString()).run(kill -> {
 *     long held = readWhole(dir);                 // a torn file fails here
 *     assertThat(held).isBetween(kill.lastAnnounced() - 1, kill.lastAnnounced());
 * });
 * }</pre>
 */
public final class KillLoop {

    /** Writes started in an ordinary build (each child makes a few before it is killed). */
    public static final int DEFAULT_WRITES = 30;

    /** Checks the files after a kill (the child is dead; nothing writes them). */
    @FunctionalInterface
    public interface Check {
        void afterKill(Kill kill) throws Exception;
    }

    /**
     * One kill.
     *
     * @param number        1 for the first kill
     * @param lastAnnounced the last write the child announced (possibly torn by the kill); 0 if none
     */
    public record Kill(int number, long lastAnnounced) {
        /** "after kill n", for assertion descriptions. */
        public String when() {
            return "after kill " + number;
        }
    }

    /**
     * What a run did.
     *
     * @param writes      writes started (the last announced number)
     * @param kills       kills made
     * @param writeMillis about how long one write took (announcement to announcement)
     */
    public record Result(long writes, int kills, long writeMillis) {
        @Override
        public String toString() {
            return writes + " writes, killed " + kills + " times; a write took about " + writeMillis + " ms";
        }
    }

    private final Class<?> main;
    private final List<String> args;
    private List<String> jvmOptions = List.of("-Xmx256m", "-XX:TieredStopAtLevel=1");
    private long seed = 22;
    private int writes = Integer.getInteger("crash.writes", DEFAULT_WRITES);
    private int kills = Integer.getInteger("crash.kills", 0);

    private KillLoop(Class<?> main, List<String> args) {
        this.main = Objects.requireNonNull(main, "main");
        this.args = List.copyOf(args);
    }

    /** A loop over the writer {@code main}, run with {@code args} and then the number of its first write. */
    public static KillLoop of(Class<?> main, String... args) {
        return new KillLoop(main, List.of(args));
    }

    /** Options of the child JVM (default a 256 MiB heap and the quick-starting C1 compiler only). */
    public KillLoop jvmOptions(String... options) {
        this.jvmOptions = List.of(options);
        return this;
    }

    /** Writes to start, instead of {@code -Dcrash.writes}. */
    public KillLoop writes(int count) {
        this.writes = count;
        return this;
    }

    /** Kills to make, instead of {@code -Dcrash.kills}. */
    public KillLoop kills(int count) {
        this.kills = count;
        return this;
    }

    /** The seed of the kill points (default 22). */
    public KillLoop seed(long value) {
        this.seed = value;
        return this;
    }

    /**
     * Runs children and kills them until the writes and kills asked for are reached (at most 100,000 kills),
     * calling {@code check} after every kill, and asserts that they were reached.
     */
    public Result run(Check check) throws Exception {
        Random rnd = new Random(seed);
        Path errors = Files.createTempFile("kill-loop", ".err");
        try {
            long next = 1;
            int killed = 0;
            long writeMillis = 40; // a running estimate, only to spread the kills over a whole write
            while ((next <= writes || killed < kills) && killed < 100_000) {
                List<String> command = new ArrayList<>();
                command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
                command.addAll(jvmOptions);
                command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
                command.addAll(args);
                command.add(Long.toString(next));
                Process child = new ProcessBuilder(command).redirectError(errors.toFile()).start();
                long lastAnnounced = next - 1;
                try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    // a seeded number of announced writes (fewer once the writes asked for are reached, so that the
                    // kills asked for interrupt as many writes), then a seeded pause spanning a whole write
                    int perChild = Math.max(5, writes / 10);
                    int announce = 1 + rnd.nextInt(Math.min(perChild, Math.max(1, (int) (writes - next + 1))));
                    long announcedAt = 0;
                    for (int i = 0; i < announce; i++) {
                        String line = out.readLine();
                        if (line == null) {
                            throw new AssertionError(main.getSimpleName() + " ended early; its stderr:\n"
                                    + Files.readString(errors));
                        }
                        lastAnnounced = announced(line).orElseThrow(() -> new AssertionError("not an announcement"));
                        long now = System.nanoTime();
                        if (announcedAt != 0) {
                            writeMillis = (writeMillis * 3 + (now - announcedAt) / 1_000_000) / 4;
                        }
                        announcedAt = now;
                    }
                    Thread.sleep(rnd.nextInt((int) Math.max(10, Math.min(2_000, writeMillis * 5 / 4))));
                    child.toHandle().destroyForcibly(); // SIGKILL; unlike Process.destroyForcibly, keeps stdout open
                    if (!child.waitFor(60, TimeUnit.SECONDS)) {
                        throw new AssertionError(main.getSimpleName() + " did not die within 60 s of SIGKILL");
                    }
                    // what it announced before it died is still in the pipe
                    for (String line = out.readLine(); line != null; line = out.readLine()) {
                        lastAnnounced = Math.max(lastAnnounced, announced(line).orElse(lastAnnounced));
                    }
                } finally {
                    child.toHandle().destroyForcibly();
                    child.waitFor(60, TimeUnit.SECONDS);
                }
                killed++;
                check.afterKill(new Kill(killed, lastAnnounced));
                next = lastAnnounced + 1;
            }
            Result result = new Result(next - 1, killed, writeMillis);
            if (result.writes() < writes || killed < kills) {
                throw new AssertionError("reached " + result + ", not the " + writes + " writes and " + kills
                        + " kills asked for");
            }
            return result;
        } finally {
            Files.deleteIfExists(errors);
        }
    }

    /** The write number of a {@code writing <n>} line. */
    private static OptionalLong announced(String line) {
        return line.matches("writing \\d+") ? OptionalLong.of(Long.parseLong(line.substring(8)))
                : OptionalLong.empty();
    }
}
