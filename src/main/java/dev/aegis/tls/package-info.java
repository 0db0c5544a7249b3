/**
 * TLS passthrough routing by server name (SPEC §10), the pure part: {@link dev.aegis.tls.ClientHelloParser}
 * reads the server name from the first bytes of a connection and {@link dev.aegis.tls.ServerNameMatcher}
 * maps it to a route. No sockets, no config, no other Aegis package: the TCP path calls in.
 */
package dev.aegis.tls;
