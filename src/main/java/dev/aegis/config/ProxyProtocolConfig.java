package dev.aegis.config;

import java.util.Objects;

/**
 * A service's {@code proxy_protocol:} block (SPEC §10).
 *
 * @param send       the PROXY protocol header Aegis puts first on every backend connection (TCP) and
 *                   every datagram to a backend (UDP, v2 only); {@link Send#NONE} by default
 * @param acceptFrom the sources whose connections must start with a PROXY header, whose client
 *                   then stands for the connection; {@link Cidrs#NONE} by default
 */
public record ProxyProtocolConfig(Send send, Cidrs acceptFrom) {

    public static final ProxyProtocolConfig DEFAULT = new ProxyProtocolConfig(Send.NONE);

    public ProxyProtocolConfig {
        Objects.requireNonNull(send, "send");
        Objects.requireNonNull(acceptFrom, "acceptFrom");
    }

    /** Only a {@code send}, accepting headers from no one. */
    public ProxyProtocolConfig(Send send) {
        this(send, Cidrs.NONE);
    }

    /** Which header goes to the backends. */
    public enum Send {
        NONE("none"),
        V1("v1"),
        V2("v2");

        private final String yamlName;

        Send(String yamlName) {
            this.yamlName = yamlName;
        }

        public String yamlName() {
            return yamlName;
        }
    }
}
