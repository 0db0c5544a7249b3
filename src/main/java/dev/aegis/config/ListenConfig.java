package dev.aegis.config;

import java.util.Optional;

/** {@code proxy.listen}: at least one of the two is present. */
public record ListenConfig(Optional<HostPort> tcp, Optional<HostPort> udp) {
}
