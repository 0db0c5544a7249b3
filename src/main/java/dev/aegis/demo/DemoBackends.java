package dev.aegis.demo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;

/**
 * The backends of {@code aegis demo}: HTTP servers that answer like the original Aegis's
 * {@code simple-http-server.py} (JSON naming the server, {@code /health} 200) and UDP echo
 * servers that prefix each reply with their name. Loopback only.
 */
public final class DemoBackends implements AutoCloseable {

    private final List<HttpServer> http = new ArrayList<>();
    private final List<DatagramChannel> udp = new ArrayList<>();

    /** Starts HTTP backends backend1.. on the given TCP ports and UDP echo backends on the UDP ports. */
    public static DemoBackends start(List<Integer> httpPorts, List<Integer> udpPorts) throws IOException {
        DemoBackends d = new DemoBackends();
        try {
            for (int i = 0; i < httpPorts.size(); i++) {
                d.http.add(httpBackend("backend" + (i + 1), httpPorts.get(i)));
            }
            for (int i = 0; i < udpPorts.size(); i++) {
                d.udp.add(udpEcho("backend" + (i + 1), udpPorts.get(i)));
            }
            return d;
        } catch (IOException e) {
            d.close();
            throw e;
        }
    }

    private static HttpServer httpBackend(String name, int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 128);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/health", ex -> reply(ex, 200, "{\"status\":\"healthy\",\"server\":\"" + name + "\"}"));
        server.createContext("/", ex -> reply(ex, 200, "{\"server\":\"" + name + "\",\"port\":" + port
                + ",\"method\":\"" + ex.getRequestMethod() + "\",\"path\":\"" + ex.getRequestURI().getPath()
                + "\",\"message\":\"Hello from " + name + "\"}"));
        server.start();
        return server;
    }

    private static void reply(HttpExchange ex, int status, String json) throws IOException {
        byte[] body = (json + "\n").getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, body.length);
        try (var out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    private static DatagramChannel udpEcho(String name, int port) throws IOException {
        DatagramChannel ch = DatagramChannel.open();
        ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        byte[] prefix = (name + ": ").getBytes(StandardCharsets.UTF_8);
        Thread.ofVirtual().name("demo-udp-" + port).start(() -> {
            ByteBuffer in = ByteBuffer.allocate(65_535);
            ByteBuffer out = ByteBuffer.allocate(65_535 + prefix.length);
            while (ch.isOpen()) {
                try {
                    in.clear();
                    var from = ch.receive(in);
                    in.flip();
                    out.clear();
                    out.put(prefix).put(in).flip();
                    ch.send(out, from);
                } catch (SocketException e) {
                    // a client went away (ICMP unreachable): keep serving the others
                } catch (IOException e) {
                    return;
                }
            }
        });
        return ch;
    }

    @Override
    public void close() {
        for (HttpServer s : http) {
            s.stop(0);
        }
        for (DatagramChannel ch : udp) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
