package dev.aegis.health;

import dev.aegis.config.HostPort;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * {@code GET path HTTP/1.1} with {@code Host}, {@code Connection: close} and
 * {@code User-Agent: aegis-health}; healthy on a 2xx or 3xx status. Only the status line is read,
 * then the connection is closed: the body does not matter and may be large.
 *
 * <p>With {@code https} the request goes over TLS, verified like a browser would: the JDK's
 * default trust store, the configured host name sent as SNI (when it is a name, not an IP literal)
 * and checked against the certificate ({@code endpointIdentificationAlgorithm = HTTPS}).
 *
 * <p>The whole exchange (connect, handshake, request, status line) shares one deadline, so a
 * backend that drips its answer byte by byte still fails on time.
 *
 * @param path  the request target, e.g. {@code /health}
 * @param https TLS ({@code scheme: https}) or plain HTTP
 */
record HttpProbe(String path, boolean https) implements HealthProbe {

    /** Longest status line read; a real one is about 20 bytes. */
    private static final int MAX_STATUS_LINE = 1024;

    HttpProbe {
        path = path.startsWith("/") ? path : "/" + path;
    }

    @Override
    public void check(HostPort name, InetSocketAddress target, Duration timeout) throws IOException {
        long deadline = HealthProbe.deadline(timeout);
        try (Socket raw = new Socket()) {
            raw.connect(target, HealthProbe.remainingMillis(deadline));
            if (!https) {
                exchange(raw, name, deadline);
                return;
            }
            // autoClose=true: closing the TLS socket (which sends close_notify) closes raw too
            try (SSLSocket tls = (SSLSocket) TlsHolder.FACTORY.createSocket(raw, name.host(), name.port(), true)) {
                SSLParameters params = tls.getSSLParameters();
                params.setEndpointIdentificationAlgorithm("HTTPS");
                tls.setSSLParameters(params);
                tls.setSoTimeout(HealthProbe.remainingMillis(deadline));
                tls.startHandshake();
                exchange(tls, name, deadline);
            }
        }
    }

    private void exchange(Socket socket, HostPort name, long deadline) throws IOException {
        socket.setSoTimeout(HealthProbe.remainingMillis(deadline));
        OutputStream out = socket.getOutputStream();
        out.write(request(name));
        out.flush();
        checkStatus(readStatusLine(socket, deadline));
    }

    byte[] request(HostPort name) {
        return ("GET " + path + " HTTP/1.1\r\n"
                + "Host: " + name + "\r\n"
                + "User-Agent: aegis-health\r\n"
                + "Accept: */*\r\n"
                + "Connection: close\r\n"
                + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String readStatusLine(Socket socket, long deadline) throws IOException {
        InputStream in = socket.getInputStream();
        byte[] line = new byte[MAX_STATUS_LINE];
        int length = 0;
        while (length < line.length) {
            socket.setSoTimeout(HealthProbe.remainingMillis(deadline));
            int n = in.read(line, length, line.length - length);
            if (n < 0) {
                throw new ProbeFailedException(length == 0 ? "closed without answer" : "closed inside status line");
            }
            for (int i = length; i < length + n; i++) {
                if (line[i] == '\n') {
                    int end = i > 0 && line[i - 1] == '\r' ? i - 1 : i;
                    return new String(line, 0, end, StandardCharsets.ISO_8859_1);
                }
            }
            length += n;
        }
        throw new ProbeFailedException("status line too long");
    }

    /** {@code HTTP/1.1 200 OK}: passes on 200..399. */
    static void checkStatus(String statusLine) throws ProbeFailedException {
        if (!statusLine.startsWith("HTTP/") || statusLine.length() < 12 || statusLine.charAt(8) != ' ') {
            throw new ProbeFailedException("not an HTTP status line");
        }
        int status;
        try {
            status = Integer.parseInt(statusLine.substring(9, 12));
        } catch (NumberFormatException e) {
            throw new ProbeFailedException("not an HTTP status line");
        }
        if (status < 200 || status > 399) {
            throw new ProbeFailedException("status " + status);
        }
    }

    /** The default TLS socket factory, loaded on first https check only. */
    private static final class TlsHolder {
        static final SSLSocketFactory FACTORY = (SSLSocketFactory) SSLSocketFactory.getDefault();
    }
}
