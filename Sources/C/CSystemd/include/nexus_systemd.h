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

#endif
