package org.circuittracer.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.transformer.linear.FrozenAttention;

/**
 * The clean values of a long prompt's linearised model: the recorded sites, plus each layer's {@code [H, T, T]}
 * pattern computed (once, owned by the model's state) only when someone asks for it. Attribution never does; the
 * map keeps {@link org.circuittracer.spi.model.LinearizedModel#clean()}'s promise to hold every frozen pattern.
 * Immutable; thread-safe.
 */
final class LazyPatterns extends AbstractMap<HookSite, NDArray> {

    private final Map<HookSite, NDArray> recorded;
    private final Map<HookSite, FrozenAttention.Pattern> patterns;
    private final Map<HookSite, NDArray> computed = new HashMap<>();
    private final NDManager state;
    private final int length;
    private final Set<Entry<HookSite, NDArray>> entries;

    LazyPatterns(Map<HookSite, NDArray> recorded, Map<HookSite, FrozenAttention.Pattern> patterns, NDManager state,
                 int length) {
        this.recorded = Map.copyOf(recorded);
        this.patterns = Map.copyOf(patterns);
        this.state = state;
        this.length = length;
        Set<HookSite> keys = new LinkedHashSet<>(this.recorded.keySet());
        keys.addAll(this.patterns.keySet());
        this.entries = new AbstractSet<>() {
            @Override
            public Iterator<Entry<HookSite, NDArray>> iterator() {
                Iterator<HookSite> sites = keys.iterator();
                return new Iterator<>() {
                    @Override
                    public boolean hasNext() {
                        return sites.hasNext();
                    }

                    @Override
                    public Entry<HookSite, NDArray> next() {
                        HookSite site = sites.next();
                        return new Entry<>() {
                            @Override
                            public HookSite getKey() {
                                return site;
                            }

                            @Override
                            public NDArray getValue() {
                                return get(site);
                            }

                            @Override
                            public NDArray setValue(NDArray value) {
                                throw new UnsupportedOperationException("clean values are read-only");
                            }
                        };
                    }
                };
            }

            @Override
            public int size() {
                return keys.size();
            }
        };
    }

    @Override
    public boolean containsKey(Object key) {
        return recorded.containsKey(key) || patterns.containsKey(key);
    }

    @Override
    public NDArray get(Object key) {
        NDArray value = recorded.get(key);
        if (value != null) {
            return value;
        }
        FrozenAttention.Pattern pattern = patterns.get(key);
        if (pattern == null) {
            return null;
        }
        synchronized (computed) {
            return computed.computeIfAbsent((HookSite) key, site -> pattern.rows(state, 0, length, length));
        }
    }

    @Override
    public Set<Entry<HookSite, NDArray>> entrySet() {
        return entries;
    }
}
