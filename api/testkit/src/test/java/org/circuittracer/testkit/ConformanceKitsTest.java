package org.circuittracer.testkit;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import org.circuittracer.spi.attribution.AttributorProvider;
import org.circuittracer.spi.model.BackendProvider;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/** The kits pass a provider that follows the rules and fail, on the right rule, one that breaks it. */
class ConformanceKitsTest {

    static class WellBehaved extends AbstractBackendProviderConformanceTest {
        @Override
        protected BackendProvider provider() {
            return new SampleProviders.WellBehavedBackend();
        }
    }

    static class BadlyNamed extends AbstractBackendProviderConformanceTest {
        @Override
        protected BackendProvider provider() {
            return new SampleProviders.BadlyNamedBackend();
        }
    }

    static class Careless extends AbstractBackendProviderConformanceTest {
        @Override
        protected BackendProvider provider() {
            return new SampleProviders.CarelessBackend();
        }
    }

    static class Lax extends AbstractAttributorProviderConformanceTest {
        @Override
        protected AttributorProvider provider() {
            return new SampleProviders.LaxAttributor();
        }
    }

    private static Events run(Class<?> kit) {
        return EngineTestKit.engine("junit-jupiter").selectors(selectClass(kit)).execute().testEvents();
    }

    @Test
    void aConformingProviderPassesEveryRule() {
        run(WellBehaved.class).assertStatistics(s -> s.started(7).succeeded(7).failed(0));
    }

    @Test
    void anInvalidUnregisteredProviderFailsNamingAndRegistration() {
        Events events = run(BadlyNamed.class);
        events.assertStatistics(s -> s.failed(2));
        events.failed().assertThatEvents().extracting(e -> e.getTestDescriptor().getDisplayName())
                .containsExactlyInAnyOrder("nameIsValid()", "isRegisteredForServiceLoader()");
    }

    @Test
    void rawExceptionsAndOverclaimingFail() {
        Events events = run(Careless.class);
        events.failed().assertThatEvents().extracting(e -> e.getTestDescriptor().getDisplayName())
                .contains("doesNotClaimAnEmptyOrMissingDirectory()", "openingAMissingDirectoryIsAClearUserError()");
    }

    @Test
    void silentlyIgnoredSettingsFail() {
        Events events = run(Lax.class);
        events.failed().assertThatEvents().extracting(e -> e.getTestDescriptor().getDisplayName())
                .contains("rejectsUnknownSettingsNamingThem()");
    }
}
