/* LD_PRELOAD shim for benchmarking Janus on loopback.
 *
 * Janus 1.1.2 skips interfaces flagged IFF_LOOPBACK when it gathers ICE candidates, so on a
 * loopback-only benchmark it offers none. This wraps getifaddrs() and clears the flag on every
 * interface; together with `interface = "127.0.0.1"` in janus.jcfg Janus then offers 127.0.0.1.
 * Build: cc -shared -fPIC -O2 -o noloopback.so noloopback.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <ifaddrs.h>
#include <net/if.h>

int getifaddrs(struct ifaddrs **ifap) {
    static int (*real)(struct ifaddrs **) = 0;
    if (!real) real = (int (*)(struct ifaddrs **))dlsym(RTLD_NEXT, "getifaddrs");
    int rc = real(ifap);
    if (rc == 0)
        for (struct ifaddrs *i = *ifap; i; i = i->ifa_next) i->ifa_flags &= ~IFF_LOOPBACK;
    return rc;
}
