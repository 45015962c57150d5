package org.circuittracer.attribution;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The core talks to backends and dictionaries through the SPI only. */
class ProductionDependencyRulesTest {

    @Test
    void productionCodeDependsOnTheSpiTheJdkAndDjlsApiOnly() {
        JavaClasses production = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("org.circuittracer.attribution");
        classes().should().onlyDependOnClassesThat().resideInAnyPackage("java..", "ai.djl.ndarray..",
                "org.circuittracer.spi..", "org.circuittracer.attribution..", "aQute.bnd.annotation..",
                "org.osgi.annotation..").check(production);
    }
}
