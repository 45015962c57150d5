package org.circuittracer.dashboards;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** Dashboards talk to backends and dictionaries through the SPI (and the attribution core) only. */
class DashboardDependencyRulesTest {

    @Test
    void productionCodeDependsOnTheSpiTheCoreDjlsApiAndJacksonOnly() {
        classes().should().onlyDependOnClassesThat().resideInAnyPackage("java..", "ai.djl.ndarray..",
                "org.circuittracer.spi..", "org.circuittracer.attribution.replacement..",
                "org.circuittracer.attribution.export..", "org.circuittracer.attribution.io..",
                "org.circuittracer.dashboards..", "com.fasterxml.jackson..",
                "org.osgi.annotation..").check(new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("org.circuittracer.dashboards"));
    }
}
