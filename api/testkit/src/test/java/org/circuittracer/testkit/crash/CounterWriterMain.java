package org.circuittracer.testkit.crash;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A writer for {@link KillLoopTest}: {@code <dir> <first>} rewrites {@code dir/counter} with write number {@code n}
 * repeated (a temporary file, then a rename), announcing each write.
 */
public final class CounterWriterMain {

    private CounterWriterMain() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]).resolve("counter");
        for (long n = Long.parseLong(args[1]); ; n++) {
            System.out.println("writing " + n);
            System.out.flush();
            byte[] bytes = (n + "\n").repeat(20_000).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Path tmp = file.resolveSibling(".counter.tmp");
            Files.write(tmp, bytes);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
