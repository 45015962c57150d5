package org.circuittracer.transformer;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * transformer-core is what the backends share, so it knows no engine and no backend: DJL's engine-neutral API
 * (NDArray), the SPI, safetensors, Jackson and the tokenizers library only.
 */
class EngineNeutralityTest {

    private static JavaClasses production() {
        return new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("org.circuittracer.transformer");
    }

    @Test
    void noEngine() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("ai.djl.pytorch..", "ai.onnxruntime..",
                "ai.djl.engine..").because("the engines are the backends' business").check(production());
    }

    @Test
    void noBackend() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("org.circuittracer.backend..")
                .because("the backends depend on transformer-core, not the other way round").check(production());
    }
}
