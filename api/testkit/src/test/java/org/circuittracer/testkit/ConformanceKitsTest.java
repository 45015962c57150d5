package org.circuittracer.testkit;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.nio.file.Path;
import java.util.Optional;
import org.circuittracer.spi.attribution.AttributorProvider;
import org.circuittracer.spi.model.BackendProvider;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/** The kits pass a provider that follows the rules and fail, on the right rule, one that breaks it. */
class ConformanceKitsTest {

    /** A backend kit whose provider opens the sample model written into the kit's scratch directory. */
    abstract static class SampleBackendKit extends AbstractBackendProviderConformanceTest {
        @Override
        protected Optional<Path> openableModel() {
            return Optional.of(SampleProviders.writeModel(scratch));
        }
    }

    static class WellBehaved extends SampleBackendKit {
        @Override
        protected BackendProvider provider() {
            return new SampleProviders.WellBehavedBackend();
        }
    }

    static class BadlyNamed extends SampleBackendKit {
        @Override
        protected BackendProvider provider() {
            return new SampleProviders.BadlyNamedBackend();
        }
    }

    static class Careless extends SampleBackendKit {
        @Override
        protected BackendProvider provider() {
            return new SampleProviders.CarelessBackend();
        }
    }

    static class Forgetful extends SampleBackendKit {
        @Override
        protected BackendProvider provider() {
            return new SampleProviders.ForgetfulBackend();
        }
    }

    static class Leaky extends SampleBackendKit {
        @Override
        protected BackendProvider provider() {
            return new SampleProviders.LeakyBackend();
        }
    }

    static class Overclaiming extends SampleBackendKit {
        @Override
        protected BackendProvider provider() {
            return new SampleProviders.OverclaimingBackend();
        }
    }

    static class Sharing extends SampleBackendKit {
        @Override
        protected BackendProvider provider() {
            return new SampleProviders.SharingBackend();
        }
    }

    /** Without an openable model the rules that need one are skipped, not failed. */
    static class NoModel extends AbstractBackendProviderConformanceTest {
        @Override
        protected BackendProvider provider() {
            return new SampleProviders.WellBehavedBackend();
        }
    }

    static class WellBehavedAttributorKit extends AbstractAttributorProviderConformanceTest {
        @Override
        protected AttributorProvider provider() {
            return new SampleProviders.WellBehavedAttributor();
        }
    }

    static class Lax extends AbstractAttributorProviderConformanceTest {
        @Override
        protected AttributorProvider provider() {
            return new SampleProviders.LaxAttributor();
        }
    }

    static class Vague extends AbstractAttributorProviderConformanceTest {
        @Override
        protected AttributorProvider provider() {
            return new SampleProviders.VagueAttributor();
        }
    }

    static class Hasty extends AbstractAttributorProviderConformanceTest {
        @Override
        protected AttributorProvider provider() {
            return new SampleProviders.HastyAttributor();
        }
    }

    private static Events run(Class<?> kit) {
        return EngineTestKit.engine("junit-jupiter").selectors(selectClass(kit)).execute().testEvents();
    }

    private static void failsExactly(Class<?> kit, String... rules) {
        run(kit).failed().assertThatEvents().extracting(e -> e.getTestDescriptor().getDisplayName())
                .containsExactlyInAnyOrder(rules);
    }

    private static void failsAtLeast(Class<?> kit, String... rules) {
        run(kit).failed().assertThatEvents().extracting(e -> e.getTestDescriptor().getDisplayName())
                .contains(rules);
    }

    @Test
    void aConformingProviderPassesEveryRule() {
        run(WellBehaved.class).assertStatistics(s -> s.started(9).succeeded(9).failed(0));
        run(WellBehavedAttributorKit.class).assertStatistics(s -> s.started(7).succeeded(7).failed(0));
    }

    @Test
    void rulesThatOpenAModelAreSkippedWithoutOne() {
        run(NoModel.class).assertStatistics(s -> s.started(9).succeeded(7).aborted(2).failed(0));
    }

    @Test
    void anInvalidUnregisteredProviderFailsNamingAndRegistration() {
        failsExactly(BadlyNamed.class, "nameIsValid()", "isRegisteredForServiceLoader()");
    }

    @Test
    void rawExceptionsAndOverclaimingFail() {
        failsAtLeast(Careless.class, "doesNotClaimAnEmptyOrMissingDirectory()",
                "openingAMissingDirectoryIsAClearUserError()");
    }

    @Test
    void stateSharedAcrossInstancesFails() {
        failsAtLeast(Forgetful.class, "hasAPublicNoArgumentConstructorAndIsStateless()");
    }

    @Test
    void capabilitiesACallerCanChangeFail() {
        failsExactly(Leaky.class, "declaresItsCapabilitiesOnceAndForAll()", "isRegisteredForServiceLoader()");
    }

    @Test
    void modelsThatClaimMoreThanTheProviderFail() {
        failsExactly(Overclaiming.class, "modelsDoWhatTheProviderDeclaresAndNoMore()",
                "isRegisteredForServiceLoader()");
    }

    @Test
    void opensThatShareOneModelFail() {
        failsExactly(Sharing.class, "twoOpensOfOneDirectoryAreEqualAndIndependent()",
                "isRegisteredForServiceLoader()");
    }

    @Test
    void silentlyIgnoredSettingsFail() {
        failsExactly(Lax.class, "rejectsUnknownSettingsNamingThem()");
    }

    @Test
    void refusingSettingsWithoutNamingEachFails() {
        failsExactly(Vague.class, "rejectsUnknownSettingsNamingThem()", "isRegisteredForServiceLoader()");
    }

    @Test
    void workBeforeTheCapabilityCheckFails() {
        failsExactly(Hasty.class, "refusesAModelWithoutItsRequiredCapabilitiesBeforeAnyWork()",
                "isRegisteredForServiceLoader()");
    }
}
