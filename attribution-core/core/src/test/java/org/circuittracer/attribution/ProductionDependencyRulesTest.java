package org.circuittracer.attribution;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The core talks to backends and dictionaries through the SPI only. The file formats ({@code export},
 * {@code graphfile}) may also use Jackson and circuit-tracer's safetensors I/O; nothing else may.
 */
class ProductionDependencyRulesTest {

    private static final String[] FILE_FORMAT_PACKAGES = {"org.circuittracer.attribution.export..",
        "org.circuittracer.attribution.graphfile.."};

    private static JavaClasses production() {
        return new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("org.circuittracer.attribution");
    }

    @Test
    void productionCodeDependsOnTheSpiTheJdkAndDjlsApiOnly() {
        classes().that().resideOutsideOfPackages(FILE_FORMAT_PACKAGES).should().onlyDependOnClassesThat()
                .resideInAnyPackage("java..", "ai.djl.ndarray..", "org.circuittracer.spi..",
                        "org.circuittracer.attribution..", "aQute.bnd.annotation..", "org.osgi.annotation..")
                .check(production());
    }

    @Test
    void fileFormatCodeMayAlsoUseJacksonAndSafetensors() {
        classes().that().resideInAnyPackage(FILE_FORMAT_PACKAGES).should().onlyDependOnClassesThat()
                .resideInAnyPackage("java..", "org.circuittracer.spi..", "org.circuittracer.attribution..",
                        "com.fasterxml.jackson..", "org.circuittracer.safetensors..", "aQute.bnd.annotation..",
                        "org.osgi.annotation..").check(production());
    }

    @Test
    void onlyTheFileFormatPackagesUseJacksonOrSafetensors() {
        classes().that().resideOutsideOfPackages(FILE_FORMAT_PACKAGES).should().onlyDependOnClassesThat()
                .resideOutsideOfPackages("com.fasterxml.jackson..", "org.circuittracer.safetensors..")
                .check(production());
    }
}
