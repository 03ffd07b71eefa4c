#ifndef NEXUS_SYSTEMD_H
#define NEXUS_SYSTEMD_H
#include <stddef.h>

// systemd-logind over the system bus (sd-bus). The bus address comes from
// DBUS_SYSTEM_BUS_ADDRESS when set, the system bus socket otherwise. Errors: a negative
// errno, with the D-Bus error name and message (when there is one) in `error`.

// Manager.CanPowerOff: "yes", "no", "challenge" or "na" into `answer`.
int nexus_logind_can_power_off(char *answer, size_t answer_len, char *error, size_t error_len);

// Manager.PowerOff(interactive=false): logind starts poweroff.target.
int nexus_logind_power_off(char *error, size_t error_len);

// sd_notify(3) to the service manager: "READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=...".
// > 0 sent, 0 when not run by systemd (no NOTIFY_SOCKET), < 0 a negative errno.
int nexus_sd_notify(const char *state);

// The watchdog interval systemd asked for (WatchdogSec=), in microseconds; 0 when none.
unsigned long long nexus_sd_watchdog_usec(void);

#endif
