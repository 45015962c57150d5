package org.circuittracer.distribution;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * Build step of the packaged tool: the licences of every bundled dependency, offline. Reads each dependency's POM
 * (copied beside its jar by {@code dependency:copy-dependencies -DcopyPom}), follows {@code <parent>} POMs in the local
 * repository when a POM declares no licence itself, and writes {@code THIRD-PARTY.txt} (name, coordinates, licence
 * and its URL per dependency) plus the licence and notice files each jar carries under {@code META-INF/}.
 *
 * <p>Usage: {@code LicenceReport <dir of jars and poms> <local repository> <output dir>}.
 */
public final class LicenceReport {

    /** One dependency's entry. */
    record Entry(String groupId, String artifactId, String version, String name, List<String> licences) {
    }

    /** Our own artifacts, left out of the listing. */
    static final String OWN_GROUP = "org.circuittracer";

    /**
     * Dependencies whose POM chain and source repository declare no licence at all, with what we know; listed so that
     * the report says so plainly instead of "not declared", and so that a new such dependency still stands out.
     */
    static final java.util.Map<String, String> UNDECLARED = java.util.Map.of(
            "com.hubspot:algebra", "none declared by its POM or its parents (source: github.com/HubSpot/algebra); "
                    + "loaded at run time by jinjava (Apache License 2.0), which HubSpot publishes with it",
            "com.hubspot.immutables:immutables-exceptions", "none declared by its POM or its parents (source: "
                    + "github.com/HubSpot/hubspot-immutables); loaded at run time by jinjava (Apache License 2.0), "
                    + "which HubSpot publishes with it",
            // the Spark add-on's (spark/licenses/)
            "org.apache.datasketches:datasketches-memory", "none declared by its POM or its parents in the local "
                    + "repository; the jar carries the Apache License 2.0 and a NOTICE (in datasketches-memory-VERSION/ "
                    + "beside this file)",
            "oro:oro", "none declared by its POM; the jar carries The Apache Software License, Version 1.1 (in "
                    + "oro-VERSION/ beside this file)");

    private LicenceReport() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: LicenceReport <dir of jars and poms> <local repository> <output dir>");
            System.exit(2);
        }
        Path jars = Path.of(args[0]);
        Path repository = Path.of(args[1]);
        Path output = Path.of(args[2]);
        Files.createDirectories(output);
        List<Entry> entries = new ArrayList<>();
        try (Stream<Path> files = Files.list(jars)) {
            for (Path pom : files.filter(f -> f.toString().endsWith(".pom")).sorted().toList()) {
                Entry entry = read(pom, repository);
                if (entry.groupId().equals(OWN_GROUP)) {
                    continue; // circuit-tracer itself, not third-party software
                }
                entries.add(entry);
                Path jar = jars.resolve(pom.getFileName().toString().replaceAll("\\.pom$", ".jar"));
                if (Files.isRegularFile(jar)) {
                    copyLicenceFiles(jar, output.resolve(entry.artifactId() + "-" + entry.version()));
                }
            }
        }
        Files.writeString(output.resolve("THIRD-PARTY.txt"), format(entries), StandardCharsets.UTF_8);
        long unknown = entries.stream().filter(e -> e.licences().isEmpty()).count();
        System.out.println("Listed the licences of " + entries.size() + " dependencies in " + output
                + (unknown == 0 ? "" : " (" + unknown + " without a declared licence)"));
    }

    static String format(List<Entry> entries) {
        StringBuilder s = new StringBuilder();
        s.append("Third-party software bundled with circuit-tracer (from each artifact's POM on Maven Central).\n");
        s.append("The licence and notice files the jars carry are in the directories beside this file.\n\n");
        for (Entry e : entries) {
            s.append(String.format(Locale.ROOT, "%s (%s:%s:%s)%n", e.name(), e.groupId(), e.artifactId(),
                    e.version()));
            if (e.licences().isEmpty()) {
                String known = UNDECLARED.get(e.groupId() + ":" + e.artifactId());
                s.append(known != null ? "    licence: " + known + "\n" : "    licence: not declared in the POM\n");
            }
            for (String licence : e.licences()) {
                s.append("    licence: ").append(licence).append('\n');
            }
        }
        return s.toString();
    }

    /** The POM's coordinates, name and licences, the licences inherited from parents where the POM declares none. */
    static Entry read(Path pom, Path repository) {
        Element project = parse(pom);
        Element parent = child(project, "parent");
        String groupId = text(project, "groupId", parent == null ? "" : text(parent, "groupId", ""));
        String artifactId = text(project, "artifactId", "");
        String version = text(project, "version", parent == null ? "" : text(parent, "version", ""));
        String name = text(project, "name", artifactId);
        if (name.contains("${")) {
            name = artifactId;
        }
        List<String> licences = licences(project);
        for (int depth = 0; licences.isEmpty() && parent != null && depth < 10; depth++) {
            Path parentPom = repository.resolve(text(parent, "groupId", "").replace('.', '/'))
                    .resolve(text(parent, "artifactId", "")).resolve(text(parent, "version", ""))
                    .resolve(text(parent, "artifactId", "") + "-" + text(parent, "version", "") + ".pom");
            if (!Files.isRegularFile(parentPom)) {
                break;
            }
            Element next = parse(parentPom);
            licences = licences(next);
            parent = child(next, "parent");
        }
        return new Entry(groupId, artifactId, version, name, licences);
    }

    private static List<String> licences(Element project) {
        List<String> out = new ArrayList<>();
        Element licences = child(project, "licenses");
        if (licences == null) {
            return out;
        }
        NodeList list = licences.getElementsByTagName("license");
        for (int i = 0; i < list.getLength(); i++) {
            Element licence = (Element) list.item(i);
            String name = text(licence, "name", "unnamed");
            String url = text(licence, "url", "");
            out.add(url.isEmpty() ? name : name + " <" + url + ">");
        }
        return out;
    }

    private static void copyLicenceFiles(Path jar, Path directory) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            Enumeration<? extends ZipEntry> all = zip.entries();
            while (all.hasMoreElements()) {
                ZipEntry entry = all.nextElement();
                String name = entry.getName();
                String base = name.substring(name.lastIndexOf('/') + 1).toUpperCase(Locale.ROOT);
                if (entry.isDirectory() || !name.startsWith("META-INF/") || name.chars().filter(c -> c == '/').count() > 1
                        || !(base.startsWith("LICENSE") || base.startsWith("LICENCE") || base.startsWith("NOTICE")
                        || base.startsWith("COPYING"))) {
                    continue;
                }
                Files.createDirectories(directory);
                try (InputStream in = zip.getInputStream(entry)) {
                    Files.copy(in, directory.resolve(name.substring(name.lastIndexOf('/') + 1)),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static Element parse(Path pom) {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setExpandEntityReferences(false);
            Document document = factory.newDocumentBuilder().parse(pom.toFile());
            return document.getDocumentElement();
        } catch (ParserConfigurationException | SAXException e) {
            throw new IllegalStateException("cannot read " + pom + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The direct child element called {@code name}, or null. */
    private static Element child(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        return null;
    }

    private static String text(Element parent, String name, String fallback) {
        Element e = child(parent, name);
        return e == null ? fallback : e.getTextContent().trim().replaceAll("\\s+", " ");
    }
}
