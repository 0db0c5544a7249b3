package dev.aegis.udp;

import java.net.InetSocketAddress;
import java.util.Arrays;

/**
 * The session key of a datagram from an {@code accept_from} source: the sender (the proxy in
 * front) and the client its PROXY header names (no address bytes: the sender is the client). A
 * stored key is never changed; the reader thread keeps one mutable instance, the probe, which it
 * refills for every datagram to look the session up without allocating ({@link #set}, then
 * {@link #copy} when a new session is stored).
 */
final class ProxiedKey {

    private InetSocketAddress sender;
    private final byte[] address;
    private int addressLength;
    private int port;
    private int hash;

    /** A probe: filled by {@link #set} before each lookup. */
    ProxiedKey() {
        this.address = new byte[16];
    }

    private ProxiedKey(InetSocketAddress sender, byte[] address, int port, int hash) {
        this.sender = sender;
        this.address = address;
        this.addressLength = address.length;
        this.port = port;
        this.hash = hash;
    }

    /** Probe only: the key of {@code sender} and the client in {@code address[0, length)}:{@code port}. */
    ProxiedKey set(InetSocketAddress sender, byte[] address, int length, int port) {
        this.sender = sender;
        System.arraycopy(address, 0, this.address, 0, length);
        this.addressLength = length;
        this.port = port;
        int h = sender.hashCode();
        for (int i = 0; i < length; i++) {
            h = 31 * h + address[i];
        }
        this.hash = 31 * h + port;
        return this;
    }

    /** An immutable copy of this probe, to store. */
    ProxiedKey copy() {
        return new ProxiedKey(sender, Arrays.copyOf(address, addressLength), port, hash);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ProxiedKey k && k.hash == hash && k.port == port && k.sender.equals(sender)
                && Arrays.equals(k.address, 0, k.addressLength, address, 0, addressLength);
    }

    @Override
    public int hashCode() {
        return hash;
    }
}
