// The crash path: outputs that must end in a known level even if the agent dies of a
// fatal signal. Shared by the v1 and v2 implementations: the handler only calls
// nexus_gpio_request_set_value, which is one ioctl on a descriptor we already hold in
// both (nothing allocates or locks).
#include "nexus_gpio.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#define GUARD_SLOTS 32
static struct { nexus_gpio_request *volatile req; size_t index; int value; } guard[GUARD_SLOTS];
static int guard_installed;
static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT };

static void guard_handler(int sig) {
    for (int i = 0; i < GUARD_SLOTS; i++)
        if (guard[i].req) nexus_gpio_request_set_value(guard[i].req, guard[i].index, guard[i].value);
    signal(sig, SIG_DFL);
    raise(sig);
}

int nexus_gpio_crash_guard_add(nexus_gpio_request *req, size_t index, int safe_value) {
    if (!guard_installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = guard_handler;
        sa.sa_flags = SA_RESETHAND | SA_NODEFER;
        for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
            sigaction(fatal_signals[i], &sa, NULL);
        guard_installed = 1;
    }
    for (int i = 0; i < GUARD_SLOTS; i++) {
        if (guard[i].req == req && guard[i].index == index) { guard[i].value = safe_value ? 1 : 0; return 0; }
    }
    for (int i = 0; i < GUARD_SLOTS; i++) {
        if (!guard[i].req) {
            guard[i].index = index;
            guard[i].value = safe_value ? 1 : 0;
            guard[i].req = req; // last: the handler reads req first
            return 0;
        }
    }
    return -ENOSPC;
}

void nexus_gpio_crash_guard_remove(nexus_gpio_request *req) {
    for (int i = 0; i < GUARD_SLOTS; i++)
        if (guard[i].req == req) guard[i].req = NULL;
}
