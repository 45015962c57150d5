package org.circuittracer.spi;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The SPI may use only the JDK and DJL's engine-neutral API (docs/develop/architecture.md); the Maven enforcer checks the pom side. */
class SpiDependencyRulesTest {

    private static JavaClasses spi;

    @BeforeAll
    static void importSpi() {
        spi = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("org.circuittracer.spi");
    }

    @Test
    void spiDependsOnlyOnTheJdkAndDjlApi() {
        classes().should().onlyDependOnClassesThat().resideInAnyPackage(
                "java..", "ai.djl..", "org.circuittracer.spi..",
                // package-info annotations for OSGi export metadata (class retention, provided scope)
                "org.osgi.annotation..")
                .check(spi);
    }

    @Test
    void spiNeverTouchesAnEngine() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage(
                "ai.djl.pytorch..", "ai.djl.engine..", "ai.onnxruntime..", "com.fasterxml..", "io.javalin..")
                .check(spi);
    }

    @Test
    void spiHasNoMutableImplementationClassesExceptTheExceptionRoot() {
        classes().that().areNotInterfaces().and().areNotEnums().and().areNotRecords().and().areNotAnonymousClasses()
                .and().doNotHaveSimpleName("package-info")
                .should().beAssignableTo(RuntimeException.class)
                .because("the SPI holds records, interfaces and enums; behaviour lives in plugins")
                .check(spi);
    }
}
