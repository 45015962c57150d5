package org.circuittracer.viewer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/** A small HTTP client for the API tests: JSON requests with java.net.http, and raw requests over a socket. */
final class Client {

    static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();

    Client(URI base) {
        this.base = base;
    }

    HttpResponse<byte[]> send(String method, String path, String body, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60));
        if (headers.length > 0) {
            b.headers(headers);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    HttpResponse<byte[]> get(String path, String... headers) {
        return send("GET", path, null, headers);
    }

    HttpResponse<byte[]> post(String path, Object body) {
        return send("POST", path, json(body));
    }

    HttpResponse<byte[]> put(String path, Object body) {
        return send("PUT", path, json(body));
    }

    static String json(Object body) {
        try {
            return body instanceof String s ? s : JSON.writeValueAsString(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode body(HttpResponse<byte[]> r) {
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON (" + r.statusCode() + "): " + text(r), e);
        }
    }

    static String text(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    /** A request line sent verbatim (no client-side normalisation of "..", "%2e" or "//"); returns the response. */
    RawResponse raw(String method, String target, String extraHeaders, byte[] body) {
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
            s.setSoTimeout(60_000);
            OutputStream out = s.getOutputStream();
            String head = method + " " + target + " HTTP/1.1\r\nHost: " + base.getHost() + ":" + base.getPort()
                    + "\r\nConnection: close\r\n" + (extraHeaders == null ? "" : extraHeaders)
                    + (body == null || (extraHeaders != null && extraHeaders.contains("Transfer-Encoding")) ? ""
                    : "Content-Length: " + body.length + "\r\n") + "\r\n";
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            if (body != null) {
                out.write(body);
            }
            out.flush();
            // read the one response by its framing, not up to the close: a server that answers before reading the
            // whole body may reset the connection after its answer, which would fail a read up to the end
            return readResponse(new BufferedInputStream(s.getInputStream()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Sends a request head verbatim ({@code headers} must state the body's framing: Content-Length or chunked) and
     * then {@code sent}, which may be only the start of the body the head announces, and reads one response without
     * waiting for the server to close the connection. For limits: the server must answer from what it has received;
     * send no more than the server will read before answering, so that closing with unread bytes (a reset) cannot
     * destroy its answer.
     */
    RawResponse partial(String method, String target, String headers, byte[] sent) {
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
            s.setSoTimeout(60_000);
            OutputStream out = s.getOutputStream();
            String head = method + " " + target + " HTTP/1.1\r\nHost: " + base.getHost() + ":" + base.getPort()
                    + "\r\nConnection: close\r\n" + headers + "\r\n";
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            out.write(sent);
            out.flush();
            return readResponse(new BufferedInputStream(s.getInputStream()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Sends {@code request} as it is (request line, headers and body, however malformed), then closes the sending
     * side, so that a server waiting for bytes the request announced sees that none will come, and reads the final
     * response (interim 1xx answers skipped; no body after a HEAD). Empty when the server closed the connection
     * without answering.
     */
    Optional<RawResponse> verbatim(byte[] request, boolean head) {
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
            s.setSoTimeout(60_000);
            try {
                OutputStream out = s.getOutputStream();
                out.write(request);
                out.flush();
                s.shutdownOutput();
            } catch (IOException e) {
                // the server answered and closed before reading it all: its answer is still there to be read
            }
            InputStream in = new BufferedInputStream(s.getInputStream());
            while (true) {
                in.mark(1);
                int first;
                try {
                    first = in.read();
                } catch (java.net.SocketException e) {
                    return Optional.empty(); // reset before any answer
                }
                if (first < 0) {
                    return Optional.empty();
                }
                in.reset();
                RawResponse r = readResponse(in, head);
                if (r.status() >= 200) {
                    // a mutated request can hold a second one (a Content-Length that ends early): wait until the
                    // server has closed, i.e. finished every request of this connection, so that none of its writes
                    // runs into the next case (two -Pfuzz runs saw an annotation write's temporary file there)
                    drain(in);
                    return Optional.of(r);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads and drops what the server still sends, until it closes the connection (or resets or times out). */
    private static void drain(InputStream in) {
        byte[] buffer = new byte[8192];
        try {
            while (in.read(buffer) >= 0) {
                // the answers to further requests of the same connection: not this case's
            }
        } catch (IOException e) {
            // reset or timed out: the server is done with the connection either way
        }
    }

    /** One response: head, then the body its Content-Length or chunked framing delimits (else up to the end). */
    private static RawResponse readResponse(InputStream in) throws IOException {
        return readResponse(in, false);
    }

    /** One response; {@code head}: the answer to a HEAD request, which has no body whatever its head says. */
    private static RawResponse readResponse(InputStream in, boolean headOnly) throws IOException {
        ByteArrayOutputStream headBytes = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the connection ended within the response head: " + headBytes);
            }
            headBytes.write(b);
            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
        }
        String head = headBytes.toString(StandardCharsets.ISO_8859_1);
        int status = Integer.parseInt(head.substring(9, 12));
        if (headOnly || status < 200 || status == 204 || status == 304) {
            return new RawResponse(status, "", head);
        }
        long length = -1;
        boolean chunked = false;
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = line.substring(colon + 1).trim();
                if (name.equals("content-length")) {
                    length = Long.parseLong(value);
                } else if (name.equals("transfer-encoding")) {
                    chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                }
            }
        }
        byte[] body;
        if (chunked) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (int size = chunkSize(in); size > 0; size = chunkSize(in)) {
                all.write(in.readNBytes(size));
                in.readNBytes(2); // CRLF after the chunk
            }
            body = all.toByteArray();
        } else if (length >= 0) {
            body = in.readNBytes((int) length);
        } else {
            body = in.readAllBytes();
        }
        String text = new String(body, StandardCharsets.ISO_8859_1);
        return new RawResponse(status, text, head + text);
    }

    private static int chunkSize(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("the connection ended within a chunk size line");
            }
            line.append((char) b);
        }
        String hex = line.toString().trim();
        int semicolon = hex.indexOf(';');
        return Integer.parseInt(semicolon < 0 ? hex : hex.substring(0, semicolon), 16);
    }

    record RawResponse(int status, String body, String whole) {
    }
}
