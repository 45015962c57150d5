package org.circuittracer.runtime.osgi;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.circuittracer.runtime.ProviderInfo;
import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.spi.Provider;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The providers currently in the service registry, one {@link ServiceTracker} per extension point.
 *
 * <p>The trackers are opened normally (not {@code open(true)}): the provider interfaces come from the system
 * bundle, which every plugin imports them from, so every provider is class-compatible with the host. A bundle that
 * embeds its own SPI copy registers services the host could not cast; the framework hides those from us.
 *
 * <p>Two providers of one kind with the same name: the one from the bundle installed first (lowest bundle id) wins,
 * the other is hidden and reported by {@link #duplicates()}.
 */
final class ServiceRegistryView {

    /** One registered provider. */
    private record Entry(String name, String origin, long bundleId, long serviceId, Provider provider) {
    }

    private static final Comparator<Entry> FIRST_INSTALLED =
            Comparator.comparingLong(Entry::bundleId).thenComparingLong(Entry::serviceId);

    private final Map<ProviderKind<?>, ServiceTracker<? extends Provider, ? extends Provider>> trackers =
            new LinkedHashMap<>();

    ServiceRegistryView(BundleContext context) {
        for (ProviderKind<?> kind : ProviderKind.ALL) {
            trackers.put(kind, tracker(context, kind));
        }
    }

    private static <P extends Provider> ServiceTracker<P, P> tracker(BundleContext context, ProviderKind<P> kind) {
        return new ServiceTracker<>(context, kind.type(), null);
    }

    void open() {
        trackers.values().forEach(ServiceTracker::open);
    }

    void close() {
        trackers.values().forEach(ServiceTracker::close);
    }

    /** The providers of {@code kind}, one per name, sorted by name. */
    <P extends Provider> List<P> all(ProviderKind<P> kind) {
        return visible(kind).stream().map(e -> kind.type().cast(e.provider())).toList();
    }

    /** Every visible provider, in {@link ProviderKind#ALL} order, then by name. */
    List<ProviderInfo> describe() {
        List<ProviderInfo> infos = new ArrayList<>();
        for (ProviderKind<?> kind : ProviderKind.ALL) {
            for (Entry e : visible(kind)) {
                infos.add(new ProviderInfo(kind.label(), e.name(), description(e.provider()), e.origin(),
                        e.provider().getClass().getName()));
            }
        }
        return List.copyOf(infos);
    }

    /** A problem for every provider hidden because an earlier bundle has one of the same kind and name. */
    List<PluginProblem> duplicates() {
        List<PluginProblem> problems = new ArrayList<>();
        for (ProviderKind<?> kind : ProviderKind.ALL) {
            Map<String, Entry> first = new LinkedHashMap<>();
            for (Entry e : entries(kind)) {
                Entry winner = first.putIfAbsent(e.name(), e);
                if (winner != null) {
                    problems.add(new PluginProblem(e.origin(), "its " + kind.label() + " provider '" + e.name()
                            + "' (" + e.provider().getClass().getName() + ") is ignored because " + winner.origin()
                            + " already provides one with that name (" + winner.provider().getClass().getName()
                            + "). Remove one of the two plugins."));
                }
            }
        }
        return problems;
    }

    private List<Entry> visible(ProviderKind<?> kind) {
        Map<String, Entry> byName = new LinkedHashMap<>();
        for (Entry e : entries(kind)) {
            byName.putIfAbsent(e.name(), e);
        }
        return byName.values().stream().sorted(Comparator.comparing(Entry::name)).toList();
    }

    /** The registered providers of {@code kind}, first installed first. */
    private List<Entry> entries(ProviderKind<?> kind) {
        List<Entry> entries = new ArrayList<>();
        collect(trackers.get(kind), entries);
        entries.sort(FIRST_INSTALLED);
        return entries;
    }

    private static <S extends Provider, T extends Provider> void collect(ServiceTracker<S, T> tracker,
            List<Entry> entries) {
        ServiceReference<S>[] references = tracker.getServiceReferences();
        for (ServiceReference<S> reference : references == null ? List.<ServiceReference<S>>of()
                : List.of(references)) {
            T provider = tracker.getService(reference);
            Bundle bundle = reference.getBundle();
            if (provider == null || bundle == null) {
                continue; // unregistered while we looked
            }
            // Services registered by other means (e.g. a DS component) lack our properties: ask the provider.
            Object name = reference.getProperty(EquinoxRuntime.PROVIDER_NAME);
            Object origin = reference.getProperty(EquinoxRuntime.PROVIDER_ORIGIN);
            entries.add(new Entry(name instanceof String s ? s : provider.name(),
                    origin instanceof String s ? s : Bundles.describe(bundle), bundle.getBundleId(),
                    (Long) reference.getProperty(Constants.SERVICE_ID), provider));
        }
    }

    private static String description(Provider provider) {
        try {
            String description = provider.description();
            return description == null ? "" : description;
        } catch (RuntimeException e) {
            return "(description failed: " + e + ")";
        }
    }
}
