package org.circuittracer.viewer.http;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's own error answers (requests refused before they reach a route: a path that is not UTF-8 once decoded, an
 * ambiguous {@code %2F}, a malformed request line or header) in our JSON error form, so the page and scripts see the
 * same {@code {"error", "status", "message"}} as from the routes, never Jetty's HTML page or a stack trace.
 */
final class JsonErrorHandler extends org.eclipse.jetty.ee10.servlet.ErrorHandler {

    JsonErrorHandler() {
        setShowStacks(false);
        setShowCauses(false);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        int code = response.getStatus() >= 400 ? response.getStatus() : 500;
        Object message = request.getAttribute(ERROR_MESSAGE);
        if (message == null && request.getAttribute(ERROR_EXCEPTION) instanceof Throwable t) {
            message = t.getMessage();
        }
        write(response, code, message == null ? null : message.toString(), callback);
        return true;
    }

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                    Callback callback) {
        write(response, code, message, callback);
    }

    @Override
    protected boolean generateAcceptableResponse(Request request, Response response, Callback callback,
                                                 String contentType, List<Charset> charsets, int code, String message,
                                                 Throwable cause) {
        write(response, code, message, callback);
        return true;
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, "application/json");
        return ByteBuffer.wrap(body(status, reason));
    }

    private static void write(Response response, int code, String message, Callback callback) {
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, ByteBuffer.wrap(body(code, message)), callback);
    }

    static byte[] body(int status, String reason) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", status == 404 ? "NOT_FOUND" : status == 400 ? "BAD_REQUEST" : "HTTP_" + status);
        body.put("status", status);
        String what = reason == null || reason.isBlank() ? "HTTP " + status : reason;
        body.put("message", status >= 500 ? "The server could not answer (" + what + ")."
                : "The request was refused before reaching a route: " + what + ". Send a valid HTTP request: paths "
                + "and query strings percent-encoded UTF-8, no encoded '/' or '\\' in paths (docs/viewer.md lists "
                + "the routes).");
        try {
            return Http.JSON.writeValueAsBytes(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return ("{\"error\":\"HTTP_" + status + "\",\"status\":" + status + ",\"message\":\"HTTP " + status
                    + "\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
    }
}
