package org.circuittracer.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/** The dictionary kit passes a dictionary that follows the rules and fails, on exactly the broken rule, ones that don't. */
class DictionaryConformanceKitTest {

    private static List<Path> samples() {
        try {
            return List.of(Path.of(DictionaryConformanceKitTest.class.getResource("/sample-dictionaries/with-skip").toURI()),
                    Path.of(DictionaryConformanceKitTest.class.getResource("/sample-dictionaries/plain").toURI()));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs the kit on the sample directories with {@code provider}. */
    abstract static class Kit extends AbstractDictionaryConformanceTest {
        @Override
        protected List<Path> directories() {
            return samples();
        }
    }

    static class WellBehaved extends Kit {
        @Override
        protected DictionaryFormatProvider provider() {
            return new SampleDictionaries.SampleFormat();
        }
    }

    static class DropsAnEntry extends Kit {
        @Override
        protected DictionaryFormatProvider provider() {
            return new SampleDictionaries.DropsAnEntry();
        }
    }

    static class ForgetsTheDecoderBias extends Kit {
        @Override
        protected DictionaryFormatProvider provider() {
            return new SampleDictionaries.ForgetsTheDecoderBias();
        }
    }

    static class IgnoresZeroedPositions extends Kit {
        @Override
        protected DictionaryFormatProvider provider() {
            return new SampleDictionaries.IgnoresZeroedPositions();
        }
    }

    static class HidesItsSkip extends Kit {
        @Override
        protected DictionaryFormatProvider provider() {
            return new SampleDictionaries.HidesItsSkip();
        }
    }

    static class SavesWithoutSkip extends Kit {
        @Override
        protected DictionaryFormatProvider provider() {
            return new SampleDictionaries.SavesWithoutSkip();
        }
    }

    private static Events run(Class<?> kit) {
        return EngineTestKit.engine("junit-jupiter").selectors(selectClass(kit)).execute().testEvents();
    }

    /** The rule (test method) of each failed invocation. */
    private static List<String> failedRules(Class<?> kit) {
        return run(kit).failed().stream()
                .map(e -> ((MethodSource) e.getTestDescriptor().getSource().orElseThrow()).getMethodName())
                .toList();
    }

    @Test
    void aConformingDictionaryPassesEveryRule() {
        Events events = run(WellBehaved.class);
        events.assertStatistics(s -> s.failed(0).aborted(0));
        assertThat(events.succeeded().count()).isEqualTo(12 * samples().size());
    }

    @Test
    void droppingASparseEntryFailsSparseEqualsDense() {
        assertThat(failedRules(DropsAnEntry.class)).containsOnly("sparseEncodingEqualsDenseEncoding");
    }

    @Test
    void forgettingTheDecoderBiasFailsTheReconstruction() {
        assertThat(failedRules(ForgetsTheDecoderBias.class)).containsOnly("decodeEqualsTheDenseReconstruction");
    }

    @Test
    void ignoringZeroedPositionsFailsTheZeroingRule() {
        assertThat(failedRules(IgnoresZeroedPositions.class))
                .containsOnly("zeroedPositionsHaveNoActivationsAndOtherPositionsAreUnaffected");
    }

    @Test
    void anUndeclaredSkipFailsTheCapabilityRuleOnlyWhereThereIsASkip() {
        assertThat(failedRules(HidesItsSkip.class)).containsExactly("declaredCapabilitiesHoldBothWays");
    }

    @Test
    void aLossySaveFailsTheRoundTrip() {
        assertThat(failedRules(SavesWithoutSkip.class)).containsExactly("aSavedCopyReadsBackIdentically");
    }
}
