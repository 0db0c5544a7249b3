package dev.aegis.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Decides whether a host name in the configuration resolves. This is the one place where
 * loading a configuration touches DNS: every host of every address goes through it, once per
 * load, so that a typo in a backend name is a load error rather than a backend that silently
 * never answers. Tests pass their own implementation.
 */
@FunctionalInterface
public interface HostResolver {

    /** Uses the JDK resolver ({@code /etc/hosts}, then DNS). Literal IP addresses never reach DNS. */
    HostResolver SYSTEM = host -> {
        try {
            InetAddress.getByName(host);
            return true;
        } catch (UnknownHostException | SecurityException e) {
            return false;
        }
    };

    /** @return whether {@code host} (a name or an IP literal without brackets) resolves now */
    boolean resolves(String host);
}
