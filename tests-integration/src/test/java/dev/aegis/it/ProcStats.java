package dev.aegis.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** What {@code /proc} says about a process: memory, descriptors, threads, and its sockets. */
final class ProcStats {

    private ProcStats() {
    }

    /** One sample: resident memory in KiB, open descriptors, threads. */
    record Sample(long millis, long rssKb, int fds, int threads) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "t=%6.1fs rss=%6d KiB fds=%5d threads=%4d", millis / 1000.0, rssKb, fds, threads);
        }
    }

    static Sample sample(long pid) {
        long rss = -1;
        int threads = -1;
        for (String line : readLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
            } else if (line.startsWith("Threads:")) {
                threads = Integer.parseInt(line.substring(8).trim());
            }
        }
        return new Sample(System.currentTimeMillis(), rss, fdCount(pid), threads);
    }

    static int fdCount(long pid) {
        int n = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path ignored : fds) {
                n++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return n;
    }

    /** The command line of a process, arguments joined by spaces. */
    static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8)
                    .replace('\0', ' ').trim();
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Is a {@code proto} ("tcp" or "udp") socket on local {@code port} open in process {@code pid}
     * (and, for TCP with {@code listening}, in LISTEN state)? Reads {@code /proc/net/PROTO{,6}}
     * (Java's sockets are usually IPv6 ones carrying IPv4) and matches the inode against the
     * process's descriptors: a port probe that opens no connection, so nothing gets routed.
     */
    static boolean ownsSocket(long pid, String proto, int port, boolean listening) {
        Set<String> inodes = new HashSet<>();
        for (String table : List.of(proto, proto + "6")) {
            for (String line : readLines(Path.of("/proc/net", table))) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 10 || !f[1].contains(":")) {
                    continue;
                }
                int localPort = Integer.parseInt(f[1].substring(f[1].lastIndexOf(':') + 1), 16);
                if (localPort == port && (!listening || f[3].equals("0A"))) {
                    inodes.add(f[9]);
                }
            }
        }
        if (inodes.isEmpty()) {
            return false;
        }
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[") && inodes.contains(target.substring(8, target.length() - 1))) {
                        return true;
                    }
                } catch (IOException e) {
                    // the descriptor closed while we looked
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    private static List<String> readLines(Path p) {
        try {
            return Files.readAllLines(p, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
