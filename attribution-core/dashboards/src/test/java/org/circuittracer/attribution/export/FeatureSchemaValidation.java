package org.circuittracer.attribution.export;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * Opens the graph-export tests' strict JSON-schema validator ({@code JsonSchemaSubset}, package-private in the core's
 * test jar) to the dashboard tests, which check feature files against Neuronpedia's feature-details schema with it.
 */
public final class FeatureSchemaValidation {

    private FeatureSchemaValidation() {
    }

    /** The violations of {@code schema} by {@code value}, each as "path: problem"; empty when valid. */
    public static List<String> validate(JsonNode schema, JsonNode value) {
        return JsonSchemaSubset.validate(schema, value);
    }
}
