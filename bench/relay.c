/* Raw UDP relay: the ceiling for the benchmark (see ../../shared BENCHMARK.md, "Raw UDP relay").
 *
 * Forward-only, no crypto, no RTP logic: every datagram received from one sender is sent to
 * every other known sender (a sender becomes known when its first datagram arrives), which is
 * the fan-out an SFU does for an everyone-subscribes meeting. Batches with recvmmsg and
 * sendmmsg so the cost is what the kernel allows per packet.
 *
 * Build: cc -O2 -o relay relay.c      Run: taskset -c 0 ./relay 127.0.0.1 40000
 * Prints once a second: ingress and egress packets per second.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64
#define MAX_PEERS 256
#define MAX_OUT 1024
#define MTU 1500

static struct sockaddr_in peers[MAX_PEERS];
static int npeers;

static int peer_index(const struct sockaddr_in *a) {
    for (int i = 0; i < npeers; i++)
        if (peers[i].sin_port == a->sin_port && peers[i].sin_addr.s_addr == a->sin_addr.s_addr)
            return i;
    if (npeers == MAX_PEERS) return -1;
    peers[npeers] = *a;
    return npeers++;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: relay ADDR PORT\n"); return 2; }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int buf = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
    inet_pton(AF_INET, argv[1], &addr.sin_addr);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr)) { perror("bind"); return 1; }

    static char data[BATCH][MTU];
    static struct sockaddr_in from[BATCH];
    static struct iovec iov[BATCH];
    static struct mmsghdr in[BATCH], out[MAX_OUT];
    static struct iovec out_iov[MAX_OUT];
    for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){ data[i], MTU };
        in[i].msg_hdr = (struct msghdr){ .msg_name = &from[i], .msg_namelen = sizeof from[i],
                                         .msg_iov = &iov[i], .msg_iovlen = 1 };
    }
    unsigned long rx = 0, tx = 0;
    double last = now();
    for (;;) {
        for (int i = 0; i < BATCH; i++) in[i].msg_hdr.msg_namelen = sizeof from[i];
        int n = recvmmsg(fd, in, BATCH, MSG_WAITFORONE, NULL);
        if (n <= 0) continue;
        rx += n;
        int nout = 0;
        for (int i = 0; i < n; i++) {
            int src = peer_index(&from[i]);
            for (int p = 0; p < npeers; p++) {
                if (p == src) continue;
                if (nout == MAX_OUT) { tx += sendmmsg(fd, out, nout, 0); nout = 0; }
                out_iov[nout] = (struct iovec){ data[i], in[i].msg_len };
                out[nout].msg_hdr = (struct msghdr){ .msg_name = &peers[p],
                    .msg_namelen = sizeof peers[p], .msg_iov = &out_iov[nout], .msg_iovlen = 1 };
                nout++;
            }
        }
        for (int off = 0; off < nout;) {
            int s = sendmmsg(fd, out + off, nout - off, 0);
            if (s <= 0) break; /* socket buffer full: drop the rest, as a relay would */
            off += s;
            tx += s;
        }
        double t = now();
        if (t - last >= 1.0) {
            printf("ingress %.0f/s egress %.0f/s peers %d\n", rx / (t - last), tx / (t - last), npeers);
            fflush(stdout);
            rx = tx = 0;
            last = t;
        }
    }
}
