/*
 * benchtool: the backends and load generators of bench/run.sh that no packaged tool provides.
 *
 *   benchtool http      LIFETIME_S PORT                 HTTP/1.1 server: 200 + 100-byte body, keep-alive
 *                                                        unless the request says "Connection: close"
 *   benchtool http-proxied LIFETIME_S PORT              the same, behind a proxy that sends a PROXY header
 *                                                        (v1 or v2) first on every connection: skipped
 *   benchtool tcp-echo  LIFETIME_S PORT [PORT...]       echoes what it reads (small messages)
 *   benchtool udp-echo  LIFETIME_S PORT                 echoes every datagram to its sender
 *   benchtool udp-load  PORT SESSIONS WINDOW SECONDS MAX_PACKETS
 *                                                        request/reply UDP load, prints one RESULT line
 *   benchtool tcp-hold  PORT[,PORT...] COUNT CONNECT_S HOLD_S
 *                                                        opens COUNT connections, checks each with a 1-byte
 *                                                        echo, prints one READY line, holds them HOLD_S
 *
 * Safety: every socket talks to 127.0.0.1 only (there is no address argument), servers exit
 * after LIFETIME_S, generators after their duration or packet cap.
 * Single-threaded epoll throughout: each process needs one core at most, which is what the
 * pinned layout of run.sh gives the load side.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64          /* datagrams per recvmmsg/sendmmsg */
#define PAYLOAD 64        /* udp-load datagram size */
#define UDP_GIVE_UP 0.1   /* seconds without a reply before a session's outstanding packets count as lost */
#define LISTENER_TAG (1ULL << 40)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static _Noreturn void fail(const char *what) {
    perror(what);
    exit(1);
}

static _Noreturn void usage(void) {
    fprintf(stderr,
            "usage: benchtool http LIFETIME_S PORT\n"
            "       benchtool http-proxied LIFETIME_S PORT\n"
            "       benchtool tcp-echo LIFETIME_S PORT [PORT...]\n"
            "       benchtool udp-echo LIFETIME_S PORT\n"
            "       benchtool udp-load PORT SESSIONS WINDOW SECONDS MAX_PACKETS\n"
            "       benchtool tcp-hold PORT[,PORT...] COUNT CONNECT_S HOLD_S\n");
    exit(2);
}

/* The hard limit is all we may use (20000 on the machine this was written on). */
static void use_all_fds(void) {
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

static struct sockaddr_in loopback(int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int parse_port(const char *s) {
    int p = atoi(s);
    if (p <= 0 || p > 65535) { fprintf(stderr, "bad port %s\n", s); exit(2); }
    return p;
}

static int tcp_listener(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    if (fd < 0) fail("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = loopback(port);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) fail("bind");
    if (listen(fd, 4096) < 0) fail("listen");
    return fd;
}

static void watch(int ep, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev = {.events = events, .data.u64 = data};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) fail("epoll_ctl");
}

static void accept_all(int ep, int lfd) {
    for (;;) {
        int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
        if (c < 0) return;
        int one = 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        watch(ep, c, EPOLLIN, (uint64_t)c);
    }
}

/* ---------------------------------------------------------------- http */

#define REQ_MAX 2048
#define BODY_LEN 100

static const char V2_SIGNATURE[12] = "\r\n\r\n\0\r\nQUIT\n";

/*
 * Length of the PROXY header at the start of buf (v2 binary or v1 text), 0 while it is not
 * complete yet, -1 when buf does not start with one. Only what a benchmark backend needs: the
 * header is skipped, not checked.
 */
static long proxy_header_length(const char *buf, size_t len) {
    if (len >= 1 && buf[0] == '\r') {
        if (len < 16) return 0;
        if (memcmp(buf, V2_SIGNATURE, sizeof V2_SIGNATURE) != 0) return -1;
        return 16 + (((unsigned char)buf[14] << 8) | (unsigned char)buf[15]);
    }
    if (len >= 1 && buf[0] == 'P') {
        const char *end = memmem(buf, len, "\r\n", 2);
        return end ? (long)(end - buf) + 2 : (len > 107 ? -1 : 0);
    }
    return len == 0 ? 0 : -1;
}

static _Noreturn void http_server(int argc, char **argv, int proxied) {
    if (argc != 2) usage();
    alarm((unsigned)atoi(argv[0]));
    char body[BODY_LEN + 1], keep[256], close_[256];
    memset(body, 'b', BODY_LEN - 1);
    body[BODY_LEN - 1] = '\n';
    body[BODY_LEN] = 0;
    int keep_len = snprintf(keep, sizeof keep,
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
                            BODY_LEN, body);
    int close_len = snprintf(close_, sizeof close_,
                             "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                             "Connection: close\r\n\r\n%s",
                             BODY_LEN, body);
    use_all_fds();
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    size_t maxfd = r.rlim_cur > 1048576 ? 1048576 : (size_t)r.rlim_cur;
    /* Per connection: the bytes of a request not complete yet (wrk sends one small request at a time). */
    char **pending = calloc(maxfd, sizeof *pending);
    unsigned short *plen = calloc(maxfd, sizeof *plen);
    /* http-proxied: 1 while a connection's PROXY header has not been read in full. */
    unsigned char *header_due = calloc(maxfd, 1);
    if (!pending || !plen || !header_due) fail("calloc");
    int ep = epoll_create1(0), lfd = tcp_listener(parse_port(argv[1]));
    watch(ep, lfd, EPOLLIN, LISTENER_TAG | (uint64_t)lfd);
    struct epoll_event evs[256];
    char in[REQ_MAX];
    for (;;) {
        int k = epoll_wait(ep, evs, 256, -1);
        if (k < 0) { if (errno == EINTR) continue; fail("epoll_wait"); }
        for (int e = 0; e < k; e++) {
            if (evs[e].data.u64 & LISTENER_TAG) { accept_all(ep, lfd); continue; }
            int fd = (int)evs[e].data.u64;
            ssize_t n = read(fd, in, sizeof in);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            int drop = n <= 0 || (size_t)fd >= maxfd;
            if (!drop) {
                if (!pending[fd]) {
                    if (!(pending[fd] = malloc(REQ_MAX))) fail("malloc");
                    header_due[fd] = (unsigned char)proxied;
                }
                if (plen[fd] + n > REQ_MAX) {
                    drop = 1;
                } else {
                    memcpy(pending[fd] + plen[fd], in, (size_t)n);
                    plen[fd] += (unsigned short)n;
                }
            }
            if (!drop && header_due[fd]) {
                long h = proxy_header_length(pending[fd], plen[fd]);
                if (h < 0 || h > plen[fd]) {
                    drop = h < 0 || h > REQ_MAX;   /* no header, or one that cannot fit: refuse */
                    if (!drop) continue;            /* the rest of a v2 header is still to come */
                } else if (h > 0) {
                    memmove(pending[fd], pending[fd] + h, plen[fd] - (size_t)h);
                    plen[fd] -= (unsigned short)h;
                    header_due[fd] = 0;
                } else {
                    continue;
                }
            }
            /* Answer every complete request in the buffer. */
            while (!drop) {
                char *end = memmem(pending[fd], plen[fd], "\r\n\r\n", 4);
                if (!end) break;
                size_t used = (size_t)(end - pending[fd]) + 4;
                char saved = pending[fd][used - 1];
                pending[fd][used - 1] = 0;
                int wants_close = strcasestr(pending[fd], "\nconnection: close") != NULL;
                pending[fd][used - 1] = saved;
                const char *resp = wants_close ? close_ : keep;
                int len = wants_close ? close_len : keep_len;
                /* A response this small fits the socket buffer; a short write means a dead peer. */
                if (write(fd, resp, (size_t)len) != len || wants_close) drop = 1;
                memmove(pending[fd], pending[fd] + used, plen[fd] - used);
                plen[fd] -= (unsigned short)used;
            }
            if (drop) {
                if ((size_t)fd < maxfd) { free(pending[fd]); pending[fd] = NULL; plen[fd] = 0; }
                close(fd);
            }
        }
    }
}

/* ---------------------------------------------------------------- tcp-echo */

static _Noreturn void tcp_echo(int argc, char **argv) {
    if (argc < 2) usage();
    alarm((unsigned)atoi(argv[0]));
    use_all_fds();
    int ep = epoll_create1(0);
    for (int i = 1; i < argc; i++) {
        int lfd = tcp_listener(parse_port(argv[i]));
        watch(ep, lfd, EPOLLIN, LISTENER_TAG | (uint64_t)lfd);
    }
    struct epoll_event evs[512];
    char buf[4096];
    for (;;) {
        int k = epoll_wait(ep, evs, 512, -1);
        if (k < 0) { if (errno == EINTR) continue; fail("epoll_wait"); }
        for (int e = 0; e < k; e++) {
            if (evs[e].data.u64 & LISTENER_TAG) { accept_all(ep, (int)(evs[e].data.u64 & 0xffffffff)); continue; }
            int fd = (int)evs[e].data.u64;
            ssize_t n = read(fd, buf, sizeof buf);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            /* Probes are 1 byte: a short write only happens to a peer that is gone. */
            if (n <= 0 || write(fd, buf, (size_t)n) != n) close(fd);
        }
    }
}

/* ---------------------------------------------------------------- udp-echo */

static _Noreturn void udp_echo(int argc, char **argv) {
    if (argc != 2) usage();
    alarm((unsigned)atoi(argv[0]));
    int fd = socket(AF_INET, SOCK_DGRAM, 0), size = 4 << 20;
    if (fd < 0) fail("socket");
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    struct sockaddr_in a = loopback(parse_port(argv[1]));
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) fail("bind");
    static char data[BATCH][2048];
    struct sockaddr_in from[BATCH];
    struct iovec iov[BATCH];
    struct mmsghdr msg[BATCH];
    for (;;) {
        memset(msg, 0, sizeof msg);
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = data[i];
            iov[i].iov_len = sizeof data[i];
            msg[i].msg_hdr.msg_iov = &iov[i];
            msg[i].msg_hdr.msg_iovlen = 1;
            msg[i].msg_hdr.msg_name = &from[i];
            msg[i].msg_hdr.msg_namelen = sizeof from[i];
        }
        int n = recvmmsg(fd, msg, BATCH, MSG_WAITFORONE, NULL);
        if (n < 0) { if (errno == EINTR) continue; fail("recvmmsg"); }
        for (int i = 0; i < n; i++) iov[i].iov_len = msg[i].msg_len;  /* send back what came in */
        for (int done = 0; done < n;) {
            int s = sendmmsg(fd, msg + done, (unsigned)(n - done), 0);
            if (s < 0) { if (errno == EINTR) continue; break; }  /* full buffer: the rest is lost, as UDP may */
            done += s;
        }
    }
}

/* ---------------------------------------------------------------- udp-load */

struct session {
    int fd;
    int outstanding;    /* sent, neither answered nor written off */
    double last_reply;  /* or last write-off: when the window last moved */
};

struct udp_load {
    int window;
    unsigned long long cap, sent, received, in_window, lost;
    int sending;
};

static void top_up(struct udp_load *l, struct session *s) {
    static char payload[PAYLOAD];
    static struct iovec iov = {payload, PAYLOAD};
    static struct mmsghdr msg[BATCH];
    if (!l->sending) return;
    long want = l->window - s->outstanding;
    if ((unsigned long long)want > l->cap - l->sent) want = (long)(l->cap - l->sent);
    if (want > BATCH) want = BATCH;
    if (want <= 0) {
        if (l->sent >= l->cap) l->sending = 0;
        return;
    }
    for (long i = 0; i < want; i++) {
        msg[i].msg_hdr.msg_iov = &iov;
        msg[i].msg_hdr.msg_iovlen = 1;
    }
    int n = sendmmsg(s->fd, msg, (unsigned)want, MSG_DONTWAIT);
    if (n > 0) { s->outstanding += n; l->sent += (unsigned long long)n; }
}

static int udp_load(int argc, char **argv) {
    if (argc != 5) usage();
    int port = parse_port(argv[0]), sessions = atoi(argv[1]);
    struct udp_load l = {.window = atoi(argv[2]), .cap = strtoull(argv[4], NULL, 10), .sending = 1};
    double seconds = atof(argv[3]);
    if (sessions < 1 || l.window < 1 || seconds <= 0 || l.cap < 1) usage();
    use_all_fds();
    int ep = epoll_create1(0);
    struct session *ss = calloc((size_t)sessions, sizeof *ss);
    if (!ss) fail("calloc");
    struct sockaddr_in target = loopback(port);
    for (int i = 0; i < sessions; i++) {
        /* One connected socket per session: its own source port, so a proxy sees a distinct client. */
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), size = 1 << 20;
        if (fd < 0) fail("socket");
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        if (connect(fd, (struct sockaddr *)&target, sizeof target) < 0) fail("connect");
        ss[i].fd = fd;
        watch(ep, fd, EPOLLIN, (uint64_t)i);
    }
    double start = now(), stop = start + seconds, drain_until = 0, last_scan = start;
    for (int i = 0; i < sessions; i++) { ss[i].last_reply = start; top_up(&l, &ss[i]); }
    static char data[BATCH][PAYLOAD + 64];
    struct iovec iov[BATCH];
    struct mmsghdr msg[BATCH];
    struct epoll_event evs[256];
    for (;;) {
        int k = epoll_wait(ep, evs, 256, 5);
        double t = now();
        if (l.sending && t >= stop) l.sending = 0;
        for (int e = 0; e < k; e++) {
            struct session *s = &ss[evs[e].data.u64];
            int n;
            do {
                memset(msg, 0, sizeof msg);
                for (int i = 0; i < BATCH; i++) {
                    iov[i].iov_base = data[i];
                    iov[i].iov_len = sizeof data[i];
                    msg[i].msg_hdr.msg_iov = &iov[i];
                    msg[i].msg_hdr.msg_iovlen = 1;
                }
                n = recvmmsg(s->fd, msg, BATCH, MSG_DONTWAIT, NULL);  /* <0: EAGAIN, or ICMP refused */
                if (n > 0) {
                    l.received += (unsigned long long)n;
                    if (t < stop) l.in_window += (unsigned long long)n;
                    s->outstanding = s->outstanding > n ? s->outstanding - n : 0;
                    s->last_reply = t;
                }
            } while (n == BATCH);
            top_up(&l, s);
        }
        if (t - last_scan >= 0.01) {  /* write off stalled windows so the load keeps going */
            last_scan = t;
            for (int i = 0; i < sessions; i++) {
                if (ss[i].outstanding > 0 && t - ss[i].last_reply > UDP_GIVE_UP) {
                    l.lost += (unsigned long long)ss[i].outstanding;
                    ss[i].outstanding = 0;
                    ss[i].last_reply = t;
                }
                top_up(&l, &ss[i]);
            }
        }
        if (!l.sending) {
            if (drain_until == 0) drain_until = t + 0.3;
            int waiting = 0;
            for (int i = 0; i < sessions; i++) waiting += ss[i].outstanding;
            if (waiting == 0 || t >= drain_until) break;
        }
    }
    double elapsed = (now() < stop ? now() : stop) - start;
    unsigned long long missing = l.sent > l.received ? l.sent - l.received : 0;
    printf("RESULT sessions=%d window=%d sent=%llu received=%llu secs=%.3f pps=%.0f loss_pct=%.3f\n",
           sessions, l.window, l.sent, l.received, elapsed,
           elapsed > 0 ? (double)l.in_window / elapsed : 0.0,
           l.sent ? 100.0 * (double)missing / (double)l.sent : 0.0);
    return 0;
}

/* ---------------------------------------------------------------- tcp-hold */

enum { CONNECTING = 1, PROBING, HELD, BROKEN };

static volatile sig_atomic_t stop_holding;
static void on_term(int sig) { (void)sig; stop_holding = 1; }

static int tcp_hold(int argc, char **argv) {
    if (argc != 4) usage();
    struct sockaddr_in targets[32];
    int ntargets = 0;
    for (char *p = strtok(argv[0], ","); p && ntargets < 32; p = strtok(NULL, ",")) targets[ntargets++] = loopback(parse_port(p));
    int count = atoi(argv[1]);
    double connect_s = atof(argv[2]), hold_s = atof(argv[3]);
    if (ntargets == 0 || count < 1) usage();
    signal(SIGTERM, on_term);
    use_all_fds();
    int *fds = calloc((size_t)count, sizeof *fds);
    unsigned char *state = calloc((size_t)count, 1);
    if (!fds || !state) fail("calloc");
    int ep = epoll_create1(0), next = 0, busy = 0, held = 0, broken = 0;
    const int parallel = 256;  /* connects in flight: enough to be quick, few enough for any backlog */
    double start = now();
    struct epoll_event evs[512];
    while ((next < count || busy > 0) && now() - start < connect_s && !stop_holding) {
        while (next < count && busy < parallel) {
            int i = next++;
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            if (fd < 0 || (connect(fd, (struct sockaddr *)&targets[i % ntargets], sizeof targets[0]) < 0 &&
                           errno != EINPROGRESS)) {
                if (fd >= 0) close(fd);
                state[i] = BROKEN; broken++;
                continue;
            }
            fds[i] = fd; state[i] = CONNECTING; busy++;
            watch(ep, fd, EPOLLOUT, (uint64_t)i);
        }
        int k = epoll_wait(ep, evs, 512, 50);
        for (int e = 0; e < k; e++) {
            int i = (int)evs[e].data.u64, fd = fds[i], err = 0;
            socklen_t len = sizeof err;
            if (state[i] == CONNECTING) {
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
                if (err == 0 && write(fd, "p", 1) == 1 && epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == 0) {
                    state[i] = PROBING;
                    continue;
                }
            } else if (state[i] == PROBING) {
                char c;
                ssize_t n = read(fd, &c, 1);
                if (n < 0 && errno == EAGAIN) continue;
                if (n == 1 && c == 'p') {  /* the echo came back through whatever is in between */
                    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                    state[i] = HELD; held++; busy--;
                    continue;
                }
            } else {
                continue;
            }
            epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
            close(fd);
            state[i] = BROKEN; broken++; busy--;
        }
    }
    printf("READY held=%d failed=%d unfinished=%d secs=%.2f\n", held, broken, count - held - broken, now() - start);
    fflush(stdout);
    double hold_start = now();
    while (!stop_holding && now() - hold_start < hold_s) usleep(50000);
    return 0;  /* exiting closes every connection */
}

int main(int argc, char **argv) {
    if (argc < 2) usage();
    signal(SIGPIPE, SIG_IGN);
    const char *mode = argv[1];
    argc -= 2;
    argv += 2;
    if (!strcmp(mode, "http")) http_server(argc, argv, 0);
    if (!strcmp(mode, "http-proxied")) http_server(argc, argv, 1);
    if (!strcmp(mode, "tcp-echo")) tcp_echo(argc, argv);
    if (!strcmp(mode, "udp-echo")) udp_echo(argc, argv);
    if (!strcmp(mode, "udp-load")) return udp_load(argc, argv);
    if (!strcmp(mode, "tcp-hold")) return tcp_hold(argc, argv);
    usage();
}
