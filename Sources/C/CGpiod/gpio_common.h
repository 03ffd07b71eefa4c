// Shared by gpio_v1.c and gpio_v2.c (not part of the shim's interface).
#ifndef NEXUS_GPIO_COMMON_H
#define NEXUS_GPIO_COMMON_H
#include <string.h>

/// Copies a C string into a fixed buffer, always terminated; NULL becomes "".
static inline void copy_string(char *buf, size_t size, const char *s) {
    if (size == 0) return;
    if (!s) s = "";
    strncpy(buf, s, size - 1);
    buf[size - 1] = 0;
}
#endif
