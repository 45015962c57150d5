package org.circuittracer.distribution;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * Build step of the packaged tool's Spark add-on: the {@code spark/} directory that
 * {@code circuit-tracer-spark-VERSION.tar.gz} unpacks into an installation.
 *
 * <p>The add-on's class path is the one the Spark module resolved (its jar's manifest {@code Class-Path}, every jar in
 * its {@code target/lib/}). A jar that the base installation already holds, byte for byte, in {@code lib/} or
 * {@code bundles/} is referred to there; only the others (Spark, Scala, Hadoop, Spark's Jackson, ...) are copied to
 * {@code spark/lib/}. {@code spark/circuit-tracer-spark.jar} is the add-on's classes with a manifest whose
 * {@code Class-Path} names that whole class path relative to itself ({@code lib/...}, {@code ../lib/...},
 * {@code ../bundles/...}), with the command line's main class and the {@code Add-Opens} Spark needs on Java 17: the
 * launcher runs it with {@code java -jar}. {@code spark/classpath.txt} lists the same class path relative to the
 * installation. The base tool's {@code lib/} (and its Jackson) is never on the add-on's
 * class path except where the add-on resolved the same jar.
 *
 * <p>It also writes {@code licence-poms/}: the POMs of the class path's jars, each beside (a link to) its jar, for
 * {@link LicenceReport}.
 *
 * <p>Usage: {@code SparkAddOn <the Spark module's target dir> <the base installation's staging dir> <output spark
 * dir> <licence POM dir>}.
 */
public final class SparkAddOn {

    /** The add-on's jar, in the Spark module's target directory and in {@code spark/}. */
    static final String JAR = "circuit-tracer-spark.jar";

    /**
     * The same class path, one jar a line, relative to the installation ({@code spark/lib/...}, {@code lib/...},
     * {@code bundles/...}): for spark-submit's {@code --jars} and cluster class paths (docs/distributed.md).
     */
    static final String CLASS_PATH_LIST = "classpath.txt";

    private SparkAddOn() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: SparkAddOn <spark module target dir> <base staging dir> <output spark dir> "
                    + "<licence POM dir>");
            System.exit(2);
        }
        Path sparkTarget = Path.of(args[0]);
        Path moduleJar = sparkTarget.resolve(JAR);
        Path moduleLib = sparkTarget.resolve("lib");
        if (!Files.isRegularFile(moduleJar) || !Files.isDirectory(moduleLib)) {
            throw new IllegalStateException("The Spark add-on is not built: " + moduleJar + " or " + moduleLib
                    + " is missing. Build the package together with it: mvn package -pl distribution/package -am "
                    + "(or the whole build).");
        }
        int copied = build(moduleJar, moduleLib, Path.of(args[1]), Path.of(args[2]), Path.of(args[3]));
        System.out.println("Spark add-on: " + args[2] + " (" + copied + " jars of its own in lib/)");
    }

    /**
     * Writes the add-on into {@code output} (replacing what was there) and the licence inputs into {@code poms}.
     *
     * @return how many jars were copied into {@code output/lib}
     */
    static int build(Path moduleJar, Path moduleLib, Path base, Path output, Path poms) throws IOException {
        deleteTree(output);
        deleteTree(poms);
        Files.createDirectories(output.resolve("lib"));
        Files.createDirectories(poms);
        Manifest source;
        try (JarFile jar = new JarFile(moduleJar.toFile())) {
            source = jar.getManifest();
        }
        if (source == null || source.getMainAttributes().getValue(Attributes.Name.CLASS_PATH) == null) {
            throw new IllegalStateException(moduleJar + " has no Class-Path in its manifest; rebuild distribution/spark.");
        }
        List<String> classPath = new ArrayList<>();
        int copied = 0;
        for (String entry : source.getMainAttributes().getValue(Attributes.Name.CLASS_PATH).trim().split("\\s+")) {
            if (!entry.startsWith("lib/") || entry.indexOf('/', 4) >= 0) {
                throw new IllegalStateException("Unexpected Class-Path entry " + entry + " in " + moduleJar);
            }
            String name = entry.substring(4);
            Path jar = moduleLib.resolve(name);
            if (!Files.isRegularFile(jar)) {
                throw new IllegalStateException(jar + " (on the Class-Path of " + moduleJar + ") is missing; rebuild "
                        + "distribution/spark.");
            }
            String shared = sameIn(base, name, jar);
            if (shared != null) {
                classPath.add(shared);
            } else {
                Files.copy(jar, output.resolve("lib").resolve(name), StandardCopyOption.COPY_ATTRIBUTES);
                classPath.add("lib/" + name);
                copied++;
            }
            licenceInput(moduleLib, name, jar, poms);
        }
        writeJar(moduleJar, source, classPath, output.resolve(JAR));
        writeClassPathList(classPath, output.resolve(CLASS_PATH_LIST));
        return copied;
    }

    /** {@code ../lib/NAME} or {@code ../bundles/NAME} where the base installation holds the same bytes, else null. */
    private static String sameIn(Path base, String name, Path jar) throws IOException {
        for (String dir : List.of("lib", "bundles")) {
            Path there = base.resolve(dir).resolve(name);
            if (Files.isRegularFile(there) && Files.mismatch(there, jar) == -1L) {
                return "../" + dir + "/" + name;
            }
        }
        return null;
    }

    /** A link to the jar and a copy of its POM ({@code NAME.pom}, or the POM of a classifier's jar) in {@code poms}. */
    private static void licenceInput(Path moduleLib, String name, Path jar, Path poms) throws IOException {
        String stem = name.substring(0, name.length() - ".jar".length());
        Path pom = moduleLib.resolve(stem + ".pom");
        if (!Files.isRegularFile(pom)) {
            // a classifier's jar (pytorch-native-cpu-2.7.1-linux-x86_64.jar): the longest POM name it starts with
            try (Stream<Path> files = Files.list(moduleLib)) {
                pom = files.filter(f -> f.getFileName().toString().endsWith(".pom"))
                        .filter(f -> name.startsWith(f.getFileName().toString().replaceAll("\\.pom$", "-")))
                        .max((a, b) -> Integer.compare(a.getFileName().toString().length(),
                                b.getFileName().toString().length()))
                        .orElse(null);
            }
        }
        if (pom == null) {
            throw new IllegalStateException("No POM beside " + jar + " for the licence report; rebuild distribution/spark "
                    + "(its copy-lib step copies them).");
        }
        Path target = poms.resolve(pom.getFileName());
        if (!Files.exists(target)) {
            Files.copy(pom, target);
        }
        Files.createSymbolicLink(poms.resolve(name), jar.toAbsolutePath());
    }

    /** {@link #CLASS_PATH_LIST}, written to a temporary file and renamed. */
    private static void writeClassPathList(List<String> classPath, Path target) throws IOException {
        StringBuilder text = new StringBuilder();
        for (String entry : classPath) {
            text.append(entry.startsWith("../") ? entry.substring(3) : "spark/" + entry).append('\n');
        }
        Path temporary = target.resolveSibling(target.getFileName() + ".tmp");
        Files.writeString(temporary, text, java.nio.charset.StandardCharsets.UTF_8);
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The module's jar with a manifest for the installation's layout, written to a temporary file and renamed. */
    private static void writeJar(Path moduleJar, Manifest source, List<String> classPath, Path target)
            throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        for (String copied : List.of("Main-Class", "Add-Opens", "Build-Jdk-Spec", "Implementation-Version")) {
            String value = source.getMainAttributes().getValue(copied);
            if (value != null) {
                main.putValue(copied, value);
            }
        }
        if (main.getValue(Attributes.Name.MAIN_CLASS) == null) {
            throw new IllegalStateException(moduleJar + " has no Main-Class; rebuild distribution/spark.");
        }
        main.put(Attributes.Name.CLASS_PATH, String.join(" ", classPath));
        Path temporary = target.resolveSibling(target.getFileName() + ".tmp");
        Set<String> seen = new LinkedHashSet<>();
        try (JarFile jar = new JarFile(moduleJar.toFile());
             OutputStream file = Files.newOutputStream(temporary);
             JarOutputStream out = new JarOutputStream(file, manifest)) {
            seen.add(JarFile.MANIFEST_NAME);
            Enumeration<JarEntry> entries = jar.entries();
            while (entries.hasMoreElements()) {
                JarEntry entry = entries.nextElement();
                if (!seen.add(entry.getName())) {
                    continue; // the manifest, which the stream wrote
                }
                JarEntry copy = new JarEntry(entry.getName());
                copy.setTime(entry.getTime());
                out.putNextEntry(copy);
                try (InputStream in = jar.getInputStream(entry)) {
                    in.transferTo(out);
                }
                out.closeEntry();
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temporary);
            throw e;
        }
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
