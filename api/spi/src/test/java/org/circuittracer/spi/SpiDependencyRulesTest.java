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

    /**
     * A record compares its components with {@code equals}, which for arrays is identity: every SPI record with an
     * array component must compare by content. Records that hold native tensors ({@code NDArray}, compared by identity
     * anyway) are exempt.
     */
    @Test
    void recordsWithArrayComponentsCompareByContent() {
        java.util.List<String> offenders = new java.util.ArrayList<>();
        int checked = 0;
        for (com.tngtech.archunit.core.domain.JavaClass c : spi) {
            if (!c.isRecord() || !c.getModifiers().contains(com.tngtech.archunit.core.domain.JavaModifier.PUBLIC)) {
                continue;
            }
            Class<?> type = c.reflect();
            java.lang.reflect.RecordComponent[] components = type.getRecordComponents();
            boolean arrays = java.util.Arrays.stream(components).anyMatch(r -> r.getType().isArray());
            boolean tensors = java.util.Arrays.stream(components)
                    .anyMatch(r -> r.getType().getName().equals("ai.djl.ndarray.NDArray"));
            if (!arrays || tensors) {
                continue;
            }
            checked++;
            try {
                type.getDeclaredMethod("equals", Object.class);
                type.getDeclaredMethod("hashCode");
            } catch (NoSuchMethodException e) {
                offenders.add(type.getName());
            }
        }
        org.assertj.core.api.Assertions.assertThat(checked).as("records with arrays found").isGreaterThanOrEqualTo(5);
        org.assertj.core.api.Assertions.assertThat(offenders).as("records comparing arrays by identity").isEmpty();
    }

    /**
     * Every public SPI interface says who implements it, so that bnd's baseline (api/spi/pom.xml) knows whether adding a
     * method breaks plugins ({@code @ConsumerType}: plugins implement it) or only our runtime ({@code @ProviderType}).
     */
    @Test
    void everyInterfaceDeclaresItsRole() {
        classes().that().areInterfaces().and().arePublic().and().areNotAnnotations()
                .should().beAnnotatedWith(org.osgi.annotation.versioning.ConsumerType.class)
                .orShould().beAnnotatedWith(org.osgi.annotation.versioning.ProviderType.class)
                .because("docs/develop/spi-versions.md: the role decides what a change to the interface means")
                .check(spi);
    }

    /** One exception type for invalid input: the SPI refuses with {@code CircuitTracerException.invalidArgument}. */
    @Test
    void spiRefusesInvalidArgumentsWithItsOwnException() {
        noClasses().should().callConstructor(IllegalArgumentException.class, String.class)
                .orShould().callConstructor(IllegalArgumentException.class)
                .orShould().callConstructor(IllegalArgumentException.class, String.class, Throwable.class)
                .because("a plugin or the CLI must see INVALID_ARGUMENT with its message, not a raw JDK exception")
                .check(spi);
    }
}
