package org.circuittracer.transcoders.community;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No dictionary plugin's main code uses another plugin's classes: what formats share lives in
 * {@code transcoders-common} (docs/develop/architecture.md, "the only meeting points are SPI types"). This module's test
 * class path holds every dictionary plugin, so the rule sees them all.
 */
class PluginIndependenceTest {

    /** Each dictionary plugin module and the packages it owns. */
    private static final Map<String, List<String>> PLUGINS = Map.of(
            "transcoders-reference", List.of("org.circuittracer.transcoders.reference.."),
            "transcoders-community", List.of("org.circuittracer.transcoders.gemmascope..", "org.circuittracer.transcoders.numpy..",
                    "org.circuittracer.transcoders.saelens..", "org.circuittracer.transcoders.sparsify.."),
            "transcoders-native", List.of("org.circuittracer.transcoders.nativeformat.."),
            "transcoders-matching-pursuit", List.of("org.circuittracer.transcoders.mp.."));

    @Test
    void noDictionaryPluginImportsAnother() {
        JavaClasses classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("org.circuittracer.transcoders");
        PLUGINS.forEach((module, own) -> {
            String[] others = PLUGINS.entrySet().stream().filter(e -> !e.getKey().equals(module))
                    .flatMap(e -> e.getValue().stream()).toArray(String[]::new);
            noClasses().that().resideInAnyPackage(own.toArray(String[]::new))
                    .should().dependOnClassesThat().resideInAnyPackage(others)
                    .because(module + " must not use another plugin's code; shared format code goes to "
                            + "transcoders-common")
                    .check(classes);
        });
    }

    @Test
    void theRuleSeesEveryPlugin() {
        JavaClasses classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("org.circuittracer.transcoders");
        PLUGINS.values().stream().flatMap(List::stream).map(p -> p.substring(0, p.length() - 2))
                .forEach(pkg -> org.assertj.core.api.Assertions.assertThat(Stream.of(classes.toArray(
                        new com.tngtech.archunit.core.domain.JavaClass[0])).anyMatch(c -> c.getPackageName()
                        .equals(pkg))).as("classes of %s on the test class path", pkg).isTrue());
    }
}
