package org.circuittracer.backend.onnx;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * No backend's main code uses another backend's: what they share lives in {@code transformer-core}
 * (docs/develop/architecture.md). This module's test class path holds both backends (the djl one as the parity
 * tests' reference), so the rule sees them both.
 */
class BackendIndependenceTest {

    private static final String DJL = "org.circuittracer.backend.djl..";
    private static final String ONNX = "org.circuittracer.backend.onnx..";

    private static JavaClasses production() {
        return new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("org.circuittracer.backend");
    }

    @Test
    void theOnnxBackendDoesNotUseTheDjlBackend() {
        noClasses().that().resideInAPackage(ONNX).should().dependOnClassesThat().resideInAPackage(DJL)
                .because("shared code goes to transformer-core").check(production());
    }

    @Test
    void theDjlBackendDoesNotUseTheOnnxBackend() {
        noClasses().that().resideInAPackage(DJL).should().dependOnClassesThat().resideInAPackage(ONNX)
                .because("shared code goes to transformer-core").check(production());
    }

    @Test
    void theRuleSeesBothBackends() {
        JavaClasses classes = production();
        assertThat(classes.contain("org.circuittracer.backend.djl.DjlBackendProvider"))
                .as("djl backend on the test class path").isTrue();
        assertThat(classes.contain(OnnxBackendProvider.class)).as("onnx backend").isTrue();
    }
}
