package dev.aegis.admin;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a web page in a browser on this host from driving the API, token or not (SPEC §5). Runs
 * on every request, before routing and before the bearer token, in this order:
 * <ol>
 *   <li>421 when {@code Host} names something else than this server: DNS rebinding points a
 *       name the page controls at 127.0.0.1, so the browser sends that name. Accepted: the
 *       listen address, {@code localhost}, any loopback literal, the addresses of the host's own
 *       interfaces when the API listens on a wildcard address (a Kubernetes probe sends the pod
 *       IP), and the names of {@code admin.allowed_hosts}. The port is not compared (port
 *       forwarding changes it). A request without {@code Host} (HTTP/1.0) passes: a browser
 *       always sends one.</li>
 *   <li>403 when {@code Origin} is present and is not {@code http://<Host>}: a cross-site
 *       {@code fetch} or form always carries its page's origin; curl and the CLI send none.</li>
 *   <li>415 when a POST or DELETE has a body that is not {@code application/json}: a form or a
 *       {@code text/plain} fetch needs no CORS preflight, a JSON one does, and the browser
 *       refuses the preflight (we send no CORS headers).</li>
 * </ol>
 * Host names are never looked up: a name matches by its text, an address by its value.
 */
final class RequestGuard extends Filter {

    private static final Logger log = LoggerFactory.getLogger(RequestGuard.class);
    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    private static final Pattern PORT = Pattern.compile(":\\d{1,5}");
    private static final Pattern IPV6 = Pattern.compile("[0-9a-f:.]+(%[0-9a-z._-]+)?");

    private final InetAddress listenAddress;
    private final String listenHost;
    private final Supplier<List<String>> allowedHosts;

    /**
     * @param listenAddress the bound address (wildcard or not)
     * @param listenHost    the listen host as configured (a name or a literal)
     * @param allowedHosts  {@code admin.allowed_hosts}, read on every request so that a reload applies
     */
    RequestGuard(InetAddress listenAddress, String listenHost, Supplier<List<String>> allowedHosts) {
        this.listenAddress = listenAddress;
        this.listenHost = listenHost;
        this.allowedHosts = allowedHosts;
    }

    @Override
    public void doFilter(HttpExchange exchange, Chain chain) throws IOException {
        ApiException refusal = refusal(exchange);
        if (refusal == null) {
            chain.doFilter(exchange);
            return;
        }
        if (log.isDebugEnabled()) {
            log.debug("admin request refused method={} path={} status={} reason=\"{}\"", exchange.getRequestMethod(),
                    exchange.getRequestURI().getRawPath(), refusal.status(), refusal.getMessage());
        }
        try (exchange) {
            JsonResponses.send(exchange, refusal.status(), JsonResponses.error(refusal.getMessage(), List.of()));
        }
    }

    @Override
    public String description() {
        return "Host, Origin and Content-Type checks of SPEC §5";
    }

    /** @return why the request is refused, or null when it may go on */
    ApiException refusal(HttpExchange exchange) {
        Headers headers = exchange.getRequestHeaders();
        String host = headers.getFirst("Host");
        if (host != null && !hostAllowed(hostName(host))) {
            return new ApiException(421, "Host " + host + " is not this server: use its address, localhost,"
                    + " or a name listed in admin.allowed_hosts");
        }
        String origin = headers.getFirst("Origin");
        if (origin != null && (host == null || !origin.equalsIgnoreCase("http://" + host))) {
            return new ApiException(403, "cross-origin request refused (Origin " + origin + ")");
        }
        String method = exchange.getRequestMethod();
        if ((method.equals("POST") || method.equals("DELETE")) && hasBody(headers) && !isJson(headers.getFirst("Content-Type"))) {
            return new ApiException(415, "the body must be application/json, got "
                    + Optional.ofNullable(headers.getFirst("Content-Type")).orElse("no Content-Type"));
        }
        return null;
    }

    private boolean hostAllowed(String name) {
        if (name.isEmpty()) {
            return false;
        }
        if (name.equals("localhost") || name.equalsIgnoreCase(listenHost)
                || allowedHosts.get().stream().anyMatch(name::equalsIgnoreCase)) {
            return true;
        }
        Optional<InetAddress> literal = literal(name);
        if (literal.isEmpty()) {
            return false;
        }
        InetAddress address = literal.get();
        return address.isLoopbackAddress() || address.equals(listenAddress)
                || listenAddress.isAnyLocalAddress() && isOwnInterfaceAddress(address);
    }

    private static boolean isOwnInterfaceAddress(InetAddress address) {
        try {
            return NetworkInterface.getByInetAddress(address) != null;
        } catch (SocketException e) {
            return false;
        }
    }

    /**
     * The host of a {@code Host} header ({@code host[:port]}, IPv6 in brackets), lower case,
     * without port, brackets or a final dot; empty when the header is malformed.
     */
    static String hostName(String hostHeader) {
        String h = hostHeader.trim().toLowerCase(Locale.ROOT);
        String host;
        String rest;
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            if (end < 0) {
                return "";
            }
            host = h.substring(1, end);
            rest = h.substring(end + 1);
        } else {
            int colon = h.indexOf(':');
            host = colon < 0 ? h : h.substring(0, colon);
            rest = colon < 0 ? "" : h.substring(colon);
        }
        if (!rest.isEmpty() && !PORT.matcher(rest).matches()) {
            return ""; // anything but ":digits" after the host, an IPv6 literal without brackets included
        }
        return host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
    }

    /** An IP literal as an address, without any name lookup; empty for anything else. */
    static Optional<InetAddress> literal(String name) {
        try {
            var v4 = IPV4.matcher(name);
            if (v4.matches()) {
                byte[] bytes = new byte[4];
                for (int i = 0; i < 4; i++) {
                    int octet = Integer.parseInt(v4.group(i + 1));
                    if (octet > 255) {
                        return Optional.empty();
                    }
                    bytes[i] = (byte) octet;
                }
                return Optional.of(InetAddress.getByAddress(bytes));
            }
            if (name.indexOf(':') >= 0 && IPV6.matcher(name).matches()) {
                return Optional.of(InetAddress.getByName("[" + name + "]")); // bracketed: a literal or an error, never DNS
            }
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static boolean hasBody(Headers headers) {
        String length = headers.getFirst("Content-Length");
        return headers.containsKey("Transfer-Encoding") || length != null && !length.trim().equals("0");
    }

    private static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        int semicolon = contentType.indexOf(';');
        String mediaType = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim();
        return mediaType.equalsIgnoreCase("application/json");
    }
}
