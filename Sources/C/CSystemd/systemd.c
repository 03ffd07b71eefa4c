#include "nexus_systemd.h"
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOGIN1 "org.freedesktop.login1"
#define LOGIN1_PATH "/org/freedesktop/login1"
#define LOGIN1_MANAGER "org.freedesktop.login1.Manager"

static void describe(sd_bus_error *e, int r, char *out, size_t len) {
    if (len == 0) return;
    if (e && e->name)
        snprintf(out, len, "%s: %s", e->name, e->message ? e->message : "");
    else
        snprintf(out, len, "%s", strerror(-r));
}

static int open_bus(sd_bus **bus, char *error, size_t error_len) {
    int r = sd_bus_open_system(bus);
    if (r < 0) {
        snprintf(error, error_len, "cannot connect to the system bus: %s", strerror(-r));
        return r;
    }
    // Never wait for a polkit password prompt: nobody is there to answer it.
    sd_bus_set_allow_interactive_authorization(*bus, 0);
    return 0;
}

int nexus_logind_can_power_off(char *answer, size_t answer_len, char *error, size_t error_len) {
    sd_bus *bus = NULL;
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    int r = open_bus(&bus, error, error_len);
    if (r < 0) return r;
    r = sd_bus_call_method(bus, LOGIN1, LOGIN1_PATH, LOGIN1_MANAGER, "CanPowerOff", &e, &reply, "");
    if (r < 0) {
        describe(&e, r, error, error_len);
    } else {
        const char *s = NULL;
        r = sd_bus_message_read(reply, "s", &s);
        if (r < 0) describe(NULL, r, error, error_len);
        else snprintf(answer, answer_len, "%s", s);
    }
    sd_bus_message_unref(reply);
    sd_bus_error_free(&e);
    sd_bus_flush_close_unref(bus);
    return r < 0 ? r : 0;
}

int nexus_logind_power_off(char *error, size_t error_len) {
    sd_bus *bus = NULL;
    sd_bus_error e = SD_BUS_ERROR_NULL;
    int r = open_bus(&bus, error, error_len);
    if (r < 0) return r;
    r = sd_bus_call_method(bus, LOGIN1, LOGIN1_PATH, LOGIN1_MANAGER, "PowerOff", &e, NULL, "b", 0);
    if (r < 0) describe(&e, r, error, error_len);
    sd_bus_error_free(&e);
    sd_bus_flush_close_unref(bus);
    return r < 0 ? r : 0;
}

int nexus_sd_notify(const char *state) {
    return sd_notify(0, state);
}

unsigned long long nexus_sd_watchdog_usec(void) {
    uint64_t usec = 0;
    return sd_watchdog_enabled(0, &usec) > 0 ? (unsigned long long)usec : 0;
}
