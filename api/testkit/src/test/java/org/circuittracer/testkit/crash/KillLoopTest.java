package org.circuittracer.testkit.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KillLoopTest {

    @TempDir
    Path dir;

    @Test
    void killsUntilTheWritesAndKillsAskedForAndChecksAfterEveryKill() throws Exception {
        List<KillLoop.Kill> seen = new ArrayList<>();
        long[] held = {0};
        KillLoop.Result r = KillLoop.of(CounterWriterMain.class, dir.toString()).writes(12).kills(4)
                .run(kill -> {
                    seen.add(kill);
                    long n = wholeCounter();
                    if (n != held[0]) {
                        assertThat(n).as(kill.when()).isBetween(kill.lastAnnounced() - 1, kill.lastAnnounced());
                    }
                    held[0] = n;
                });
        assertThat(r.writes()).isGreaterThanOrEqualTo(12);
        assertThat(r.kills()).isGreaterThanOrEqualTo(4).isEqualTo(seen.size());
        assertThat(seen).extracting(KillLoop.Kill::number).startsWith(1, 2, 3, 4);
        assertThat(seen).extracting(KillLoop.Kill::lastAnnounced).isSorted();
        assertThat(seen.get(seen.size() - 1).lastAnnounced()).isEqualTo(r.writes());
    }

    @Test
    void aWriterThatEndsEarlyFailsWithItsStandardError() {
        assertThatThrownBy(() -> KillLoop.of(CounterWriterMain.class, dir.resolve("missing").toString())
                .writes(3).run(kill -> { }))
                .isInstanceOf(AssertionError.class).hasMessageContaining("ended early")
                .hasMessageContaining("NoSuchFileException");
    }

    /** The counter file's write number; fails on a torn or mixed file. */
    private long wholeCounter() throws Exception {
        Path file = dir.resolve("counter");
        if (!Files.exists(file)) {
            return 0;
        }
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).as("a whole file").hasSize(20_000);
        assertThat(lines.stream().distinct().toList()).as("one write").hasSize(1);
        return Long.parseLong(lines.get(0));
    }
}
