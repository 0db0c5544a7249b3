package dev.aegis.discovery;

import dev.aegis.config.HostPort;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.stream.Collectors;
import javax.naming.Context;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.directory.Attributes;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;

/**
 * Asks DNS with what the JDK has: its JNDI DNS provider ({@code com.sun.jndi.dns}) for the listed
 * resolvers and for SRV, {@link InetAddress} for A/AAAA through the system's resolver (so that
 * {@code /etc/hosts} and nsswitch apply, as they do for every other program on the host).
 * Blocking; each query is bounded by the provider's timeout and retries.
 */
final class DnsClient {

    /** One SRV record: where a target listens and its share. */
    record Srv(String target, int port, int weight) {
    }

    private final List<HostPort> resolvers;
    private final Duration timeout;

    /**
     * @param resolvers servers to ask directly; empty = the system's resolver
     * @param timeout   the first wait for an answer; the provider retries once, waiting twice as long
     */
    DnsClient(List<HostPort> resolvers, Duration timeout) {
        this.resolvers = List.copyOf(resolvers);
        this.timeout = timeout;
    }

    /** The A and AAAA addresses of {@code name}; empty when it has none. */
    List<InetAddress> addresses(String name) throws IOException {
        if (resolvers.isEmpty()) {
            try {
                return List.of(InetAddress.getAllByName(name));
            } catch (UnknownHostException e) {
                return List.of();
            }
        }
        List<InetAddress> out = new ArrayList<>();
        for (String value : query(name, "A", "AAAA")) {
            // the provider gives literals: no lookup happens here
            out.add(InetAddress.getByName(value));
        }
        return out;
    }

    /** The SRV records of {@code name}; a target of "." (no such service here) is left out. */
    List<Srv> srv(String name) throws IOException {
        List<Srv> out = new ArrayList<>();
        for (String value : query(name, "SRV")) {
            String[] f = value.trim().split("\\s+"); // priority weight port target
            if (f.length != 4) {
                throw new IOException("malformed SRV record \"" + value + "\"");
            }
            String target = f[3].endsWith(".") ? f[3].substring(0, f[3].length() - 1) : f[3];
            if (target.isEmpty()) {
                continue;
            }
            try {
                out.add(new Srv(target, Integer.parseInt(f[2]), Integer.parseInt(f[1])));
            } catch (NumberFormatException e) {
                throw new IOException("malformed SRV record \"" + value + "\"");
            }
        }
        return out;
    }

    /** The values of the records of these types; none for a name or type that does not exist. */
    private List<String> query(String name, String... types) throws IOException {
        DirContext ctx = null;
        try {
            ctx = new InitialDirContext(environment());
            Attributes attributes = ctx.getAttributes(name, types);
            List<String> out = new ArrayList<>();
            for (String type : types) {
                Attribute a = attributes.get(type);
                if (a == null) {
                    continue;
                }
                NamingEnumeration<?> values = a.getAll();
                while (values.hasMore()) {
                    out.add(String.valueOf(values.next()));
                }
            }
            return out;
        } catch (javax.naming.NameNotFoundException e) {
            return List.of(); // NXDOMAIN: an empty answer, which the caller treats as a failure too
        } catch (NamingException e) {
            // "DNS error" alone says little: the cause says which (no reply, port unreachable, ...)
            String why = e.getExplanation() == null ? e.getClass().getSimpleName() : e.getExplanation();
            Throwable root = e.getRootCause();
            throw new IOException(root == null ? why : why + ": " + root, e);
        } finally {
            if (ctx != null) {
                try {
                    ctx.close();
                } catch (NamingException ignored) {
                    // nothing held open between queries
                }
            }
        }
    }

    private Hashtable<String, String> environment() {
        Hashtable<String, String> env = new Hashtable<>();
        env.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.dns.DnsContextFactory");
        // "dns:" with no server reads /etc/resolv.conf; several servers are tried in order
        env.put(Context.PROVIDER_URL, resolvers.isEmpty() ? "dns:"
                : resolvers.stream().map(r -> "dns://" + r).collect(Collectors.joining(" ")));
        env.put("com.sun.jndi.dns.timeout.initial", Long.toString(Math.max(1, timeout.toMillis())));
        env.put("com.sun.jndi.dns.timeout.retries", "2");
        return env;
    }
}
