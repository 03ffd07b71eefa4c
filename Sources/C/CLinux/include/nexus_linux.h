#ifndef NEXUS_LINUX_H
#define NEXUS_LINUX_H
// Linux descriptors the event loop is built on; Glibc's Swift module leaves them out.
#include <signal.h>
#include <unistd.h>
#include "nexus_net.h"
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

static inline int nexus_timerfd_create(void) {
    return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
}
static inline int nexus_timerfd_settime(int fd, long long value_ns, long long interval_ns) {
    struct itimerspec spec = {
        .it_interval = { (time_t)(interval_ns / 1000000000LL), (long)(interval_ns % 1000000000LL) },
        .it_value = { (time_t)(value_ns / 1000000000LL), (long)(value_ns % 1000000000LL) },
    };
    return timerfd_settime(fd, 0, &spec, 0);
}
static inline int nexus_signalfd(const sigset_t *mask) {
    return signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC);
}
/// Reads one signal number from a signalfd; 0 when none is pending.
static inline int nexus_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    if (read(fd, &info, sizeof info) != (ssize_t)sizeof info) return 0;
    return (int)info.ssi_signo;
}
static inline int nexus_eventfd(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}
#endif
