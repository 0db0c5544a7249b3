package dev.aegis.tls;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLParameters;

/**
 * ClientHellos for the tests: real ones (the JDK's SSLEngine, openssl s_client) and hand-built ones
 * with the one field a test wants wrong. Every method returns a fresh array.
 */
final class Hellos {

    /** A real client hello and what the parser must find in it. */
    record Real(String label, byte[] bytes, String serverName) {
        ClientHelloResult expected() {
            return serverName == null ? ClientHelloResult.NO_SNI : new ClientHelloResult.Sni(serverName);
        }

        @Override
        public String toString() {
            return label + " (" + bytes.length + " bytes)";
        }
    }

    private Hellos() {
    }

    /** The JDK's first flight for TLS 1.3 and 1.2, with and without SNI, with and without ALPN h2. */
    static List<Real> jdk() {
        return List.of(
                new Real("jdk TLSv1.3 sni", jdk("TLSv1.3", "x.test", false), "x.test"),
                new Real("jdk TLSv1.3 sni alpn h2", jdk("TLSv1.3", "api.example.com", true), "api.example.com"),
                new Real("jdk TLSv1.3 no sni", jdk("TLSv1.3", null, false), null),
                new Real("jdk TLSv1.2 sni", jdk("TLSv1.2", "Mixed.Case.Test", false), "mixed.case.test"),
                new Real("jdk TLSv1.2 sni alpn h2", jdk("TLSv1.2", "x.test", true), "x.test"),
                new Real("jdk TLSv1.2 no sni alpn h2", jdk("TLSv1.2", null, true), null));
    }

    /**
     * The bytes an SSLEngine in client mode wraps first: its ClientHello, as it would go on the wire.
     * The engine is made without a peer host, so SNI is only there when set through SSLParameters.
     */
    static byte[] jdk(String protocol, String serverName, boolean h2) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, null, null);
            SSLEngine engine = context.createSSLEngine();
            engine.setUseClientMode(true);
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setProtocols(new String[] {protocol});
            parameters.setServerNames(serverName == null ? List.of() : List.of(new SNIHostName(serverName)));
            if (h2) {
                parameters.setApplicationProtocols(new String[] {"h2", "http/1.1"});
            }
            engine.setSSLParameters(parameters);
            engine.beginHandshake();
            ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            SSLEngineResult result = engine.wrap(ByteBuffer.allocate(0), out);
            if (result.getStatus() != SSLEngineResult.Status.OK || out.position() == 0) {
                throw new IllegalStateException("SSLEngine wrapped no hello: " + result);
            }
            return Arrays.copyOf(out.array(), out.position());
        } catch (Exception e) {
            throw new IllegalStateException("cannot make a JDK ClientHello", e);
        }
    }

    /** The openssl binary on the PATH, or null. */
    static Path openssl() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, "openssl");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /**
     * The first TLS record {@code openssl s_client -servername <name> -alpn h2} sends to a loopback
     * socket that accepts and never answers (openssl puts its whole hello in one record).
     */
    static byte[] openssl(Path openssl, String serverName) throws IOException, InterruptedException {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            server.setSoTimeout(20_000);
            Process process = new ProcessBuilder(openssl.toString(), "s_client",
                    "-connect", "127.0.0.1:" + server.getLocalPort(), "-servername", serverName, "-alpn", "h2")
                    .redirectInput(ProcessBuilder.Redirect.PIPE) // open stdin: s_client waits for us
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            try (Socket client = server.accept()) {
                client.setSoTimeout(20_000);
                DataInputStream in = new DataInputStream(client.getInputStream());
                byte[] header = new byte[5];
                in.readFully(header);
                byte[] record = Arrays.copyOf(header, 5 + ((header[3] & 0xff) << 8 | (header[4] & 0xff)));
                in.readFully(record, 5, record.length - 5);
                return record;
            } finally {
                process.destroy();
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
        }
    }

    // ---- hand-built hellos -------------------------------------------------------------------

    /** A ClientHello handshake message (type, length, body) with the given extension block. */
    static byte[] message(byte[] extensions) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {3, 3});
        body.writeBytes(new byte[32]);                 // random
        body.write(0);                                 // no session id
        body.writeBytes(new byte[] {0, 2, 0x13, 0x01}); // TLS_AES_128_GCM_SHA256
        body.writeBytes(new byte[] {1, 0});            // null compression
        if (extensions != null) {
            body.writeBytes(u16(extensions.length));
            body.writeBytes(extensions);
        }
        return handshake(1, body.toByteArray());
    }

    static byte[] handshake(int type, byte[] body) {
        return concat(new byte[] {(byte) type, (byte) (body.length >>> 16), (byte) (body.length >>> 8),
                (byte) body.length}, body);
    }

    /** A hello with the given extensions in one record. */
    static byte[] hello(byte[]... extensions) {
        return records(message(concat(extensions)), 1 << 14);
    }

    static byte[] extension(int type, byte[] data) {
        return concat(u16(type), u16(data.length), data);
    }

    /** A server_name extension with these host_name entries. */
    static byte[] serverName(String... hostNames) {
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        for (String name : hostNames) {
            byte[] bytes = name.getBytes(StandardCharsets.ISO_8859_1);
            list.write(0);
            list.writeBytes(u16(bytes.length));
            list.writeBytes(bytes);
        }
        byte[] entries = list.toByteArray();
        return extension(0, concat(u16(entries.length), entries));
    }

    /** A handshake message cut into handshake records of at most {@code size} bytes each. */
    static byte[] records(byte[] message, int size) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int at = 0; at < message.length; at += size) {
            int length = Math.min(size, message.length - at);
            out.writeBytes(new byte[] {22, 3, 1});
            out.writeBytes(u16(length));
            out.write(message, at, length);
        }
        return out.toByteArray();
    }

    /** The handshake bytes of a record stream (the fragments of its records, joined). */
    static byte[] handshakeBytes(byte[] records) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int at = 0; at + 5 <= records.length; ) {
            int length = (records[at + 3] & 0xff) << 8 | (records[at + 4] & 0xff);
            out.write(records, at + 5, Math.min(length, records.length - at - 5));
            at += 5 + length;
        }
        return out.toByteArray();
    }

    static byte[] u16(int value) {
        return new byte[] {(byte) (value >>> 8), (byte) value};
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
