package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;

/**
 * The requests the reference (Python circuit-tracer) frontend makes for the feature pane of a graph whose
 * {@code metadata.scan} is local (starts with {@code /}), as {@code feature_examples/init-feature-examples.js} and
 * {@code util.js} make them: {@code GET /features/index.json.gz} (inflated as pako does: gzip or zlib), the layer's
 * {@code filename} and {@code offsets}, then {@code GET} of the {@code .bin} with
 * {@code Range: bytes=offsets[f]-offsets[f+1]} (one byte too many: the end is inclusive), whose first 4 bytes are the
 * little-endian length of the compressed JSON that follows. A scan that does not start with {@code /} or {@code ./}
 * would send the frontend to huggingface.co instead.
 */
final class ReferenceFrontendRequests {

    private final Client client;

    ReferenceFrontendRequests(Client client) {
        this.client = client;
    }

    /** Whether the reference frontend reads this scan's features from the serving server's {@code /features/}. */
    static boolean isLocal(String scan) {
        return scan.startsWith("/") || scan.startsWith("./");
    }

    /** {@code util.cantorUnpair}: paired feature id → [layer, index]. */
    static long[] cantorUnpair(long z) {
        long w = (long) Math.floor((Math.sqrt(8.0 * z + 1) - 1) / 2);
        long t = (w * w + w) / 2;
        long y = z - t;
        return new long[] {w - y, y};
    }

    /** The existence check the frontend makes for a non-local scan (and a client may make for any). */
    HttpResponse<byte[]> headIndex() {
        return client.send("HEAD", "/features/index.json.gz", null);
    }

    /** The index as the frontend reads it. */
    JsonNode index() {
        HttpResponse<byte[]> r = client.get("/features/index.json.gz");
        assertThat(r.statusCode()).as("GET /features/index.json.gz").isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Encoding")).as("raw bytes, inflated by the page").isEmpty();
        return json(inflate(r.body()));
    }

    /** {@code loadFeatureFromBinary(scan, featureIndex)}: the feature JSON of paired id {@code z}. */
    JsonNode feature(long z) {
        long[] li = cantorUnpair(z);
        JsonNode index = index();
        JsonNode layer = index.isArray() ? index.get((int) li[0]) : index.get(Long.toString(li[0]));
        assertThat(layer).as("index entry of layer " + li[0]).isNotNull();
        String filename = layer.get("filename").asText();
        long start = layer.get("offsets").get((int) li[1]).asLong();
        long end = layer.get("offsets").get((int) li[1] + 1).asLong();
        assertThat(end).as("feature " + li[0] + "/" + li[1] + " has a record").isGreaterThan(start);
        HttpResponse<byte[]> r = client.get("/features/" + filename, "Range", "bytes=" + start + "-" + end);
        assertThat(r.statusCode()).as("GET /features/" + filename + " bytes=" + start + "-" + end).isEqualTo(206);
        assertThat(r.headers().firstValue("Content-Encoding")).isEmpty();
        byte[] bytes = r.body();
        assertThat(bytes.length).isGreaterThan(4);
        int length = ByteBuffer.wrap(bytes, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        assertThat(length).isPositive().isLessThanOrEqualTo(bytes.length - 4);
        byte[] payload = new byte[length];
        System.arraycopy(bytes, 4, payload, 0, length);
        return json(inflate(payload));
    }

    /**
     * Checks what the frontend's feature pane reads: {@code examples_quantiles} (each with {@code quantile_name} and
     * {@code examples}: {@code tokens}, {@code tokens_acts_list} of the same length, {@code train_token_ind}) for the
     * example list, {@code top_logits}/{@code bottom_logits} for the token predictions, {@code act_min}/{@code act_max}
     * for the colour scale (optional: the frontend defaults them).
     */
    static void assertReadableByTheFrontend(JsonNode feature) {
        assertThat(feature.path("examples_quantiles").isArray()).as("examples_quantiles in " + feature).isTrue();
        assertThat(feature.get("examples_quantiles")).isNotEmpty();
        int examples = 0;
        for (JsonNode quantile : feature.get("examples_quantiles")) {
            assertThat(quantile.path("quantile_name").isTextual()).isTrue();
            for (JsonNode example : quantile.get("examples")) {
                assertThat(example.get("tokens").size()).isEqualTo(example.get("tokens_acts_list").size())
                        .isPositive();
                assertThat(example.path("train_token_ind").isIntegralNumber()).isTrue();
                examples++;
            }
        }
        assertThat(examples).isPositive();
        assertThat(feature.path("top_logits").isArray()).isTrue();
        assertThat(feature.path("bottom_logits").isArray()).isTrue();
        if (feature.has("act_min")) {
            assertThat(feature.get("act_max").asDouble()).isGreaterThanOrEqualTo(feature.get("act_min").asDouble());
        }
    }

    /** {@code pako.inflate}: gzip or zlib, told apart by the header. */
    static byte[] inflate(byte[] data) {
        try (InputStream in = data.length > 1 && (data[0] & 0xff) == 0x1f && (data[1] & 0xff) == 0x8b
                ? new GZIPInputStream(new ByteArrayInputStream(data)) : new InflaterInputStream(
                new ByteArrayInputStream(data))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode json(byte[] bytes) {
        try {
            return TestGraphs.JSON.readTree(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
