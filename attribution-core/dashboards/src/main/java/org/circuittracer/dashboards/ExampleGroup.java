package org.circuittracer.dashboards;

import java.util.List;
import java.util.Objects;

/**
 * A named group of example contexts (docs/reference/graph-format.md §4.1, {@code examples_quantiles[]}), shown in order.
 *
 * @param name     {@code quantile_name}, e.g. "Top activations"
 * @param examples the contexts, in display order
 */
public record ExampleGroup(String name, List<ActivationExample> examples) {

    public ExampleGroup {
        Objects.requireNonNull(name, "name");
        examples = List.copyOf(examples);
    }
}
