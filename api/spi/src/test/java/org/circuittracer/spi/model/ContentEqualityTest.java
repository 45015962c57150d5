package org.circuittracer.spi.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.circuittracer.spi.attribution.AttributionTargets.CustomTarget;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.graph.EdgeMatrix;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.Test;

/** Records of the SPI that hold arrays compare them by content, as values should. */
class ContentEqualityTest {

    @Test
    void everyRecordWithAnArrayComponentOverridesEqualsHashCodeAndToString() {
        List<Class<?>> records = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("org.circuittracer.spi").stream().map(JavaClass::reflect)
                .filter(Class::isRecord)
                .filter(c -> Arrays.stream(c.getRecordComponents()).map(RecordComponent::getType)
                        .anyMatch(Class::isArray))
                .toList();
        assertThat(records).contains(SourceWrites.class, HeadLoadings.class, QkAttribution.class,
                TokenSequence.class, EdgeMatrix.class);
        List<String> missing = records.stream().flatMap(r -> Stream.of("equals", "hashCode", "toString")
                .filter(name -> Arrays.stream(r.getDeclaredMethods()).noneMatch(m -> m.getName().equals(name)))
                .map(name -> r.getName() + "." + name)).toList();
        assertThat(missing).as("records holding arrays that compare or print them by identity").isEmpty();
    }

    @Test
    void equalContentInDistinctArraysIsEqual() {
        NDArray vectors = ShapeOnlyArray.of(2, 4);
        List<HookSite> sites = List.of(HookSite.global(SiteKind.EMBED), HookSite.of(SiteKind.MLP_OUT, 1));
        SourceWrites writes = new SourceWrites(2, new int[] {0, 1}, sites, new int[] {0, 3}, vectors);
        assertEqualNotSame(writes, new SourceWrites(2, new int[] {0, 1}, sites, new int[] {0, 3}, vectors));
        assertThat(writes).isNotEqualTo(new SourceWrites(2, new int[] {1, 0}, sites, new int[] {0, 3}, vectors))
                .isNotEqualTo(new SourceWrites(2, new int[] {0, 1}, sites, new int[] {0, 2}, vectors));
        assertThat(writes.toString()).contains("[0, 1]", "blocks.1.hook_mlp_out", "[0, 3]");

        assertEqualNotSame(new HeadLoadings(1, 1, 2, new float[] {1, 2}, new float[] {3}, new float[] {4}),
                new HeadLoadings(1, 1, 2, new float[] {1, 2}, new float[] {3}, new float[] {4}));
        QkQuery query = new QkQuery(0, 1, 2, 1);
        assertEqualNotSame(new QkAttribution(query, 1, new float[] {1}, new float[] {2}, new float[] {3}, 4, 5, 5),
                new QkAttribution(query, 1, new float[] {1}, new float[] {2}, new float[] {3}, 4, 5, 5));
        assertEqualNotSame(TokenSequence.of(1, 2), TokenSequence.of(1, 2));
        assertEqualNotSame(Positions.at(1, 2), Positions.at(1, 2));
        assertEqualNotSame(new CustomTarget("x", 1, new float[] {1}), new CustomTarget("x", 1, new float[] {1}));
        assertEqualNotSame(new SparseActivations(0, 2, new int[] {1}, new int[] {5}, new float[] {1}),
                new SparseActivations(0, 2, new int[] {1}, new int[] {5}, new float[] {1}));
        assertEqualNotSame(new EdgeMatrix(1, new int[] {0, 1}, new int[] {0}, new float[] {1}),
                new EdgeMatrix(1, new int[] {0, 1}, new int[] {0}, new float[] {1}));
    }

    private static void assertEqualNotSame(Object a, Object b) {
        assertThat(a).isNotSameAs(b).isEqualTo(b).hasSameHashCodeAs(b);
    }
}
