/*
 * accept()/accept4() interposer: when enabled, sets TCP_NODELAY on every accepted socket.
 *
 * librdkafka's mock cluster (rdkafka_mock.c, the `tributary dev-broker` backbone) accepts client
 * connections with accept() and never disables Nagle, so a transaction touching several partitions
 * stalls ~40 ms per round trip on Nagle + delayed ACK. This file defines `accept` and `accept4` in the
 * executable; the linker exports them because librdkafka.so references `accept`, so librdkafka's
 * calls resolve here first. The real functions are found with dlsym(RTLD_NEXT, ...).
 *
 * The interposer is inert (a plain pass-through) until tributary_accept_nodelay_set_enabled(1) is
 * called, which only the dev broker does, so agent processes are unaffected.
 */
#define _GNU_SOURCE
#include "tributary_shims.h"

#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <sys/socket.h>

typedef int (*tributary_accept_fn)(int, __SOCKADDR_ARG, socklen_t *__restrict);
typedef int (*tributary_accept4_fn)(int, __SOCKADDR_ARG, socklen_t *__restrict, int);

static atomic_int nodelay_enabled = 0;
static atomic_long nodelay_count = 0;
static atomic_int nodelay_last_fd = -1;
static _Atomic(tributary_accept_fn) real_accept = NULL;
static _Atomic(tributary_accept4_fn) real_accept4 = NULL;

void tributary_accept_nodelay_set_enabled(int enabled) { atomic_store(&nodelay_enabled, enabled ? 1 : 0); }

int tributary_accept_nodelay_enabled(void) { return atomic_load(&nodelay_enabled); }

long tributary_accept_nodelay_count(void) { return atomic_load(&nodelay_count); }

int tributary_accept_nodelay_last_fd(void) { return atomic_load(&nodelay_last_fd); }

static void apply_nodelay(int fd) {
    if (fd < 0 || !atomic_load(&nodelay_enabled))
        return;
    int saved_errno = errno;
    int one = 1;
    /* Fails harmlessly (EOPNOTSUPP) on non-TCP sockets such as AF_UNIX: leave those alone. */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0) {
        atomic_fetch_add(&nodelay_count, 1);
        atomic_store(&nodelay_last_fd, fd);
    }
    errno = saved_errno;
}

int accept(int fd, __SOCKADDR_ARG addr, socklen_t *__restrict addr_len) {
    tributary_accept_fn real = atomic_load(&real_accept);
    if (!real) {
        /* Racing threads store the same pointer: benign. */
        real = (tributary_accept_fn)dlsym(RTLD_NEXT, "accept");
        if (!real) {
            errno = ENOSYS;
            return -1;
        }
        atomic_store(&real_accept, real);
    }
    int result = real(fd, addr, addr_len);
    apply_nodelay(result);
    return result;
}

int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *__restrict addr_len, int flags) {
    tributary_accept4_fn real = atomic_load(&real_accept4);
    if (!real) {
        real = (tributary_accept4_fn)dlsym(RTLD_NEXT, "accept4");
        if (!real) {
            errno = ENOSYS;
            return -1;
        }
        atomic_store(&real_accept4, real);
    }
    int result = real(fd, addr, addr_len, flags);
    apply_nodelay(result);
    return result;
}
