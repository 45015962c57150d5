package org.circuittracer.viewer.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.Context;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.viewer.ViewerErrorCode;
import org.circuittracer.viewer.ViewerErrors;

/** Request and response helpers shared by the routes: bounded JSON bodies, JSON answers, error bodies. */
final class Http {

    static final ObjectMapper JSON = new ObjectMapper();
    /** Bodies above this are gzipped when the client accepts it. */
    static final int GZIP_ABOVE = 64 * 1024;

    private Http() {
    }

    /**
     * The body as JSON, refusing more than {@code limit} bytes (whatever Content-Length says, so chunked bodies are
     * bounded too).
     */
    static JsonNode jsonBody(Context ctx, long limit) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > limit) {
            throw tooLarge(declared, limit);
        }
        byte[] bytes;
        try (InputStream in = ctx.req().getInputStream()) {
            bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
        } catch (IOException e) {
            throw ViewerErrors.badRequest("Cannot read the request body: " + e.getMessage());
        }
        if (bytes.length > limit) {
            throw tooLarge(bytes.length, limit);
        }
        if (bytes.length == 0) {
            throw ViewerErrors.badRequest("The request has no body; send a JSON object.");
        }
        try {
            JsonNode node = JSON.readTree(bytes);
            if (node == null || node.isMissingNode()) {
                throw ViewerErrors.badRequest("The request body is empty; send a JSON object.");
            }
            return node;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            // Jackson's nesting limit gives no location (found by HttpRouteFuzzTest)
            throw ViewerErrors.badRequest("The request body is not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")") + ".");
        } catch (IOException e) {
            throw ViewerErrors.badRequest("Cannot read the request body: " + e.getMessage());
        }
    }

    private static CircuitTracerException tooLarge(long size, long limit) {
        return new CircuitTracerException(ViewerErrorCode.PAYLOAD_TOO_LARGE, "The request body has " + (size > limit
                ? "more than " + limit : size) + " bytes; this route accepts at most " + limit + ".");
    }

    /** Sends a JSON value (gzipped when large and accepted). */
    static void json(Context ctx, int status, Object value) {
        try {
            send(ctx, status, "application/json", JSON.writeValueAsBytes(value));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Cannot serialise the answer: " + e, e);
        }
    }

    static void json(Context ctx, Object value) {
        json(ctx, 200, value);
    }

    static void send(Context ctx, int status, String contentType, byte[] body) {
        ctx.status(status);
        ctx.contentType(contentType);
        ctx.header("Cache-Control", "no-store");
        ctx.header("Vary", "Accept-Encoding");
        if (body.length > GZIP_ABOVE && acceptsGzip(ctx)) {
            body = gzip(body);
            ctx.header("Content-Encoding", "gzip");
        }
        ctx.header("Content-Length", Integer.toString(body.length));
        ctx.result(body);
    }

    static boolean acceptsGzip(Context ctx) {
        String accept = ctx.header("Accept-Encoding");
        return accept != null && accept.toLowerCase(java.util.Locale.ROOT).contains("gzip");
    }

    static byte[] gzip(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length / 4 + 64);
        try (GZIPOutputStream gz = new GZIPOutputStream(out, 1 << 16) {
            {
                def.setLevel(1); // fast, as the reference does
            }
        }) {
            gz.write(body);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Cannot compress the answer: " + e, e);
        }
        return out.toByteArray();
    }

    /** {@code {"error": CODE, "status": N, "message": "..."}}. */
    static void error(Context ctx, int status, String code, String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", code);
        body.put("status", status);
        body.put("message", message);
        ctx.removeHeader("Content-Encoding");
        try {
            byte[] bytes = JSON.writeValueAsBytes(body);
            ctx.status(status);
            ctx.contentType("application/json");
            ctx.header("Cache-Control", "no-store");
            ctx.result(bytes);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            ctx.status(status).result(message);
        }
    }

    static void error(Context ctx, CircuitTracerException e) {
        error(ctx, ViewerErrors.httpStatus(e.errorCode()), e.errorCode().code(), e.getMessage());
    }

    /** An optional number query parameter in [min, max]. */
    static Double number(Context ctx, String name, double min, double max) {
        String v = ctx.queryParam(name);
        if (v == null || v.isBlank() || v.equals("null")) {
            return null;
        }
        try {
            double d = Double.parseDouble(v.trim());
            if (!(d >= min && d <= max)) {
                throw ViewerErrors.badRequest("Query parameter " + name + " must be in [" + min + ", " + max
                        + "], got " + v + ".");
            }
            return d;
        } catch (NumberFormatException e) {
            throw ViewerErrors.badRequest("Query parameter " + name + " must be a number, got '" + v + "'.");
        }
    }

    static int integer(Context ctx, String name, int fallback) {
        String v = ctx.queryParam(name);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw ViewerErrors.badRequest("Query parameter " + name + " must be an integer, got '" + v + "'.");
        }
    }

    /** The request path below {@code prefix}, still percent-encoded, without the query. */
    /** Whether {@code e} is {@link java.net.URLDecoder} refusing a malformed %-escape. */
    static boolean isPercentDecodingError(Throwable e) {
        return e instanceof IllegalArgumentException && e.getStackTrace().length > 0
                && e.getStackTrace()[0].getClassName().equals(java.net.URLDecoder.class.getName());
    }

    static String rawPathAfter(Context ctx, String prefix) {
        String uri = ctx.req().getRequestURI();
        int q = uri.indexOf('?');
        if (q >= 0) {
            uri = uri.substring(0, q);
        }
        return uri.startsWith(prefix) ? uri.substring(prefix.length()) : "";
    }
}
