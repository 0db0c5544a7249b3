package dev.aegis.traffic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.config.RateLimitConfig;
import dev.aegis.config.RateLimitConfig.PerClient;
import dev.aegis.config.RateLimitConfig.PerConnection;
import dev.aegis.traffic.RateLimiter.Verdict;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {

    private static final long MS = 1_000_000L;

    private final AtomicLong now = new AtomicLong(42 * 1_000_000_000L);

    private static RateLimitConfig config(double globalRate, long globalBurst, double clientRate, long clientBurst) {
        return new RateLimitConfig(globalRate, globalBurst, new PerClient(clientRate, clientBurst), new PerConnection(0, 0));
    }

    private static InetAddress ipv4(int value) {
        try {
            return InetAddress.getByAddress(new byte[] {
                    (byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal); // literals only: no lookup
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void globalLimitHoldsAcrossClients() {
        RateLimiter limiter = new RateLimiter(config(10, 5, 0, 0), 100, now::get);
        for (int i = 0; i < 5; i++) {
            assertEquals(Verdict.ADMITTED, limiter.admit(ipv4(i)));
        }
        assertEquals(Verdict.GLOBAL_LIMIT, limiter.admit(ipv4(99)));
        now.addAndGet(100 * MS);
        assertEquals(Verdict.ADMITTED, limiter.admit(ipv4(100)));
        assertEquals(Verdict.GLOBAL_LIMIT, limiter.admit(ipv4(101)));
        assertEquals(0, limiter.trackedClients(), "per_client off: no table");
    }

    @Test
    void perClientLimitHoldsForEachClientSeparately() {
        RateLimiter limiter = new RateLimiter(config(0, 0, 1, 2), 100, now::get);
        InetAddress a = ipv4(0x0A000001);
        InetAddress b = ipv4(0x0A000002);
        assertEquals(Verdict.ADMITTED, limiter.admit(a));
        assertEquals(Verdict.ADMITTED, limiter.admit(a));
        assertEquals(Verdict.CLIENT_LIMIT, limiter.admit(a));
        assertEquals(Verdict.ADMITTED, limiter.admit(b));
        assertEquals(Verdict.ADMITTED, limiter.admit(b));
        assertEquals(Verdict.CLIENT_LIMIT, limiter.admit(b));
        now.addAndGet(1000 * MS);
        assertEquals(Verdict.ADMITTED, limiter.admit(a));
        assertEquals(Verdict.CLIENT_LIMIT, limiter.admit(a));
    }

    @Test
    void aClientOverItsOwnLimitSpendsNoGlobalTokens() {
        RateLimiter limiter = new RateLimiter(config(1, 3, 1, 1), 100, now::get);
        InetAddress noisy = ipv4(1);
        assertEquals(Verdict.ADMITTED, limiter.admit(noisy));
        for (int i = 0; i < 100; i++) {
            assertEquals(Verdict.CLIENT_LIMIT, limiter.admit(noisy));
        }
        assertEquals(Verdict.ADMITTED, limiter.admit(ipv4(2)));
        assertEquals(Verdict.ADMITTED, limiter.admit(ipv4(3)));
        assertEquals(Verdict.GLOBAL_LIMIT, limiter.admit(ipv4(4)));
    }

    @Test
    void anUnsetBurstDefaultsToOneSecondOfTheRate() {
        RateLimiter limiter = new RateLimiter(config(3, 0, 0, 0), 100, now::get);
        int admitted = 0;
        for (int i = 0; i < 10; i++) {
            admitted += limiter.admit(ipv4(i)).admitted() ? 1 : 0;
        }
        assertEquals(3, admitted);
    }

    @Test
    void theClientTableNeverExceedsItsCapUnderOneHundredThousandSources() {
        RateLimiter limiter = new RateLimiter(config(0, 0, 1, 2), 1000, now::get);
        int admitted = 0;
        for (int i = 0; i < 100_000; i++) {
            admitted += limiter.admit(ipv4(0x0B000000 + i)).admitted() ? 1 : 0;
            assertTrue(limiter.trackedClients() <= 1000);
        }
        assertEquals(1000, limiter.trackedClients());
        // the first 1000 got their own buckets; the other 99,000 shared one client's burst
        assertEquals(1000 + 2, admitted);
    }

    @Test
    void theDefaultCapHoldsOneHundredThousandSources() {
        RateLimiter limiter = new RateLimiter(config(0, 0, 5, 5), RateLimiter.DEFAULT_MAX_CLIENTS, now::get);
        for (int i = 0; i < 100_000; i++) {
            limiter.admit(ipv4(0x0C000000 + i));
        }
        assertEquals(RateLimiter.DEFAULT_MAX_CLIENTS, limiter.trackedClients());
    }

    @Test
    void theCapHoldsWhenManyThreadsAddClientsAtOnce() throws Exception {
        RateLimiter limiter = new RateLimiter(config(0, 0, 1, 1), 1000, now::get);
        AtomicInteger largest = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> done = new ArrayList<>();
        try {
            for (int t = 0; t < 4; t++) {
                int base = 0x0D000000 + t * 25_000;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 25_000; i++) {
                        limiter.admit(ipv4(base + i));
                        largest.accumulateAndGet(limiter.trackedClients(), Math::max);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1000, limiter.trackedClients());
        assertTrue(largest.get() <= 1000, "table reached " + largest.get());
    }

    @Test
    void sweepForgetsOnlyClientsWhoseBucketRefilled() {
        RateLimiter limiter = new RateLimiter(config(0, 0, 10, 5), 100, now::get); // refills in 500 ms
        for (int i = 0; i < 10; i++) {
            limiter.admit(ipv4(i));
        }
        limiter.admit(ipv4(0)); // client 0 took two tokens: needs 200 ms to refill
        now.addAndGet(150 * MS);
        assertEquals(9, limiter.sweep());
        assertEquals(1, limiter.trackedClients());
        now.addAndGet(50 * MS);
        assertEquals(1, limiter.sweep());
        assertEquals(0, limiter.trackedClients());
    }

    @Test
    void aFullTableSweepsEarlyBeforeFallingBackToTheOverflowBucket() {
        RateLimiter limiter = new RateLimiter(config(0, 0, 1, 1), 2, now::get);
        assertEquals(Verdict.ADMITTED, limiter.admit(ipv4(1)));
        assertEquals(Verdict.ADMITTED, limiter.admit(ipv4(2)));
        assertEquals(Verdict.ADMITTED, limiter.admit(ipv4(3)), "nothing idle: the overflow bucket pays");
        assertEquals(Verdict.CLIENT_LIMIT, limiter.admit(ipv4(4)), "overflow bucket empty");
        assertEquals(2, limiter.trackedClients());
        now.addAndGet(1000 * MS); // clients 1 and 2 idle long enough to be forgotten
        assertEquals(Verdict.ADMITTED, limiter.admit(ipv4(5)));
        assertEquals(1, limiter.trackedClients(), "the early sweep freed both slots, client 5 took one");
        assertEquals(Verdict.CLIENT_LIMIT, limiter.admit(ipv4(5)), "client 5 has its own bucket now");
    }

    @Test
    void ipv6ClientsAreLimitedPerSlash64() {
        RateLimiter limiter = new RateLimiter(config(0, 0, 1, 1), 100, now::get);
        assertEquals(Verdict.ADMITTED, limiter.admit(ip("2001:db8::1")));
        assertEquals(Verdict.CLIENT_LIMIT, limiter.admit(ip("2001:db8::ffff:2")), "same /64");
        assertEquals(Verdict.ADMITTED, limiter.admit(ip("2001:db8:0:1::1")), "next /64");
        assertEquals(2, limiter.trackedClients());
    }

    @Test
    void clientKeysAreCompactNumbers() {
        assertEquals(0x7F000001L, RateLimiter.clientKey(ip("127.0.0.1")));
        assertEquals(0xFFFFFFFFL, RateLimiter.clientKey(ip("255.255.255.255")));
        assertEquals(0x20010DB800000001L, RateLimiter.clientKey(ip("2001:db8:0:1:abcd::1")));
    }

    @Test
    void perConnectionFactoriesGiveOneSecondOfBurstOrNoLimit() {
        RateLimitConfig limited = new RateLimitConfig(0, 0, new PerClient(0, 0), new PerConnection(1000, 50));
        RateLimiter limiter = new RateLimiter(limited, 10, now::get);
        TokenBucket bytes = limiter.newBandwidthBucket();
        assertEquals(1000, bytes.rate());
        assertEquals(1000, bytes.burst());
        assertNotSame(bytes, limiter.newBandwidthBucket(), "one bucket per connection direction");
        TokenBucket packets = limiter.newPacketBucket();
        assertEquals(50, packets.rate());
        assertEquals(50, packets.burst());

        RateLimiter open = new RateLimiter(config(0, 0, 0, 0), 10, now::get);
        assertSame(TokenBucket.UNLIMITED, open.newBandwidthBucket());
        assertSame(TokenBucket.UNLIMITED, open.newPacketBucket());
        assertEquals(Verdict.ADMITTED, open.admit(ipv4(1)));
    }

    @Test
    void reconfigureKeepsTheStateOnlyWhenTheLimitsAreUnchanged() {
        RateLimiter limiter = new RateLimiter(config(1, 1, 0, 0), 10, now::get);
        assertEquals(Verdict.ADMITTED, limiter.admit(ipv4(1)));
        RateLimiter same = limiter.reconfigure(config(1, 1, 0, 0));
        assertSame(limiter, same);
        assertEquals(Verdict.GLOBAL_LIMIT, same.admit(ipv4(1)));
        RateLimiter changed = limiter.reconfigure(config(2, 2, 0, 0));
        assertNotSame(limiter, changed);
        assertEquals(2, changed.config().burst());
        assertEquals(Verdict.ADMITTED, changed.admit(ipv4(1)));
    }
}
