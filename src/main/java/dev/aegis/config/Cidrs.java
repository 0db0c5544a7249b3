package dev.aegis.config;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * An immutable list of CIDR blocks (IPv4 and IPv6) that answers {@link #contains(InetAddress)}.
 * {@code proxy_protocol.accept_from} (SPEC §10). A bare address is a /32 or /128.
 *
 * <p>The blocks are kept as masked integers, so a lookup is a few compares. For an IPv4 address
 * it allocates nothing: {@link Inet4Address#hashCode()} is the address itself in the JDK
 * (CidrsTest pins that). An IPv6 address costs one 16-byte copy ({@link InetAddress#getAddress()}),
 * the only public way to its bytes; the TCP path asks once per connection.
 */
public final class Cidrs {

    /** No block: {@link #contains} is always false. */
    public static final Cidrs NONE = new Cidrs(List.of());

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+");

    private final List<String> texts;
    private final int[] v4Network;
    private final int[] v4Mask;
    private final long[] v6High;
    private final long[] v6Low;
    private final long[] v6MaskHigh;
    private final long[] v6MaskLow;

    private Cidrs(List<Block> blocks) {
        this.texts = blocks.stream().map(Block::text).toList();
        List<Block> v4 = blocks.stream().filter(b -> b.bytes.length == 4).toList();
        List<Block> v6 = blocks.stream().filter(b -> b.bytes.length == 16).toList();
        v4Network = new int[v4.size()];
        v4Mask = new int[v4.size()];
        for (int i = 0; i < v4.size(); i++) {
            Block b = v4.get(i);
            v4Mask[i] = b.prefix == 0 ? 0 : -1 << (32 - b.prefix);
            v4Network[i] = (int) bits(b.bytes, 0, 4) & v4Mask[i];
        }
        v6High = new long[v6.size()];
        v6Low = new long[v6.size()];
        v6MaskHigh = new long[v6.size()];
        v6MaskLow = new long[v6.size()];
        for (int i = 0; i < v6.size(); i++) {
            Block b = v6.get(i);
            v6MaskHigh[i] = mask(Math.min(b.prefix, 64));
            v6MaskLow[i] = mask(Math.max(0, b.prefix - 64));
            v6High[i] = bits(b.bytes, 0, 8) & v6MaskHigh[i];
            v6Low[i] = bits(b.bytes, 8, 8) & v6MaskLow[i];
        }
    }

    /**
     * Parses CIDR texts ({@code 10.0.0.0/8}, {@code ::1/128}, {@code 192.0.2.7}).
     *
     * @throws IllegalArgumentException naming the first bad entry and why
     */
    public static Cidrs parse(List<String> texts) {
        List<Block> blocks = new ArrayList<>(texts.size());
        for (String t : texts) {
            blocks.add(block(t));
        }
        return blocks.isEmpty() ? NONE : new Cidrs(blocks);
    }

    /** Checks one CIDR text; null when it is valid, else what is wrong with it. */
    public static String problem(String text) {
        try {
            block(text);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    /** Whether {@code address} lies in one of the blocks. */
    public boolean contains(InetAddress address) {
        if (address instanceof Inet4Address) {
            if (v4Network.length == 0) {
                return false;
            }
            int a = address.hashCode(); // the address itself, no copy (see the class comment)
            for (int i = 0; i < v4Network.length; i++) {
                if ((a & v4Mask[i]) == v4Network[i]) {
                    return true;
                }
            }
            return false;
        }
        if (v6High.length == 0 || address == null) {
            return false;
        }
        byte[] b = address.getAddress();
        long high = bits(b, 0, 8);
        long low = bits(b, 8, 8);
        for (int i = 0; i < v6High.length; i++) {
            if ((high & v6MaskHigh[i]) == v6High[i] && (low & v6MaskLow[i]) == v6Low[i]) {
                return true;
            }
        }
        return false;
    }

    public boolean isEmpty() {
        return texts.isEmpty();
    }

    /** The blocks in normal form ({@code network/prefix}), in the order given. */
    public List<String> texts() {
        return texts;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidrs c && c.texts.equals(texts);
    }

    @Override
    public int hashCode() {
        return texts.hashCode();
    }

    @Override
    public String toString() {
        return texts.toString();
    }

    private record Block(byte[] bytes, int prefix) {
        /** The network in normal form: host bits cleared, the prefix always written. */
        String text() {
            byte[] network = bytes.clone();
            for (int bit = prefix; bit < network.length * 8; bit++) {
                network[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
            }
            try {
                return InetAddress.getByAddress(network).getHostAddress() + "/" + prefix;
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e); // 4 or 16 bytes: cannot happen
            }
        }
    }

    private static Block block(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("expected a CIDR like 10.0.0.0/8 or ::1/128, got an empty text");
        }
        String t = text.strip();
        int slash = t.indexOf('/');
        String host = slash < 0 ? t : t.substring(0, slash);
        boolean v6 = host.indexOf(':') >= 0;
        // literals only: getByName must never turn a config value into a DNS query
        if (!(v6 ? IPV6.matcher(host).matches() : IPV4.matcher(host).matches())) {
            throw new IllegalArgumentException("\"" + text + "\" is not an IPv4 or IPv6 address (a CIDR like 10.0.0.0/8"
                    + " or ::1/128)");
        }
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(host).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not an IPv4 or IPv6 address");
        }
        if (v6 && bytes.length == 4) { // ::ffff:a.b.c.d comes back as IPv4: keep it IPv6
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xff;
            mapped[11] = (byte) 0xff;
            System.arraycopy(bytes, 0, mapped, 12, 4);
            bytes = mapped;
        }
        int max = bytes.length * 8;
        int prefix = max;
        if (slash >= 0) {
            String p = t.substring(slash + 1);
            if (!p.matches("\\d{1,3}")) {
                throw new IllegalArgumentException("\"" + text + "\": the prefix length must be a number from 0 to " + max);
            }
            prefix = Integer.parseInt(p);
            if (prefix > max) {
                throw new IllegalArgumentException("\"" + text + "\": the prefix length must be a number from 0 to " + max);
            }
        }
        return new Block(bytes, prefix);
    }

    private static long mask(int prefix) {
        return prefix == 0 ? 0 : -1L << (64 - prefix);
    }

    private static long bits(byte[] b, int from, int count) {
        long v = 0;
        for (int i = 0; i < count; i++) {
            v = (v << 8) | (b[from + i] & 0xFFL);
        }
        return v;
    }
}
