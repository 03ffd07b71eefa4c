#ifndef NEXUS_GPIO_H
#define NEXUS_GPIO_H
// Shim over libgpiod. The interface is the v2 request model (one request owns a set
// of lines with their settings) so that the v1 implementation in gpio_v1.c and a v2
// one can sit behind the same functions. No libgpiod type crosses this header.
#include <stddef.h>
#include <stdint.h>

typedef struct nexus_gpio_chip nexus_gpio_chip;
typedef struct nexus_gpio_request nexus_gpio_request;

enum {
    NEXUS_GPIO_INPUT = 1,
    NEXUS_GPIO_OUTPUT = 2,
};
enum {
    NEXUS_GPIO_EDGE_NONE = 0,
    NEXUS_GPIO_EDGE_RISING = 1,
    NEXUS_GPIO_EDGE_FALLING = 2,
    NEXUS_GPIO_EDGE_BOTH = 3,
};
enum {
    NEXUS_GPIO_DRIVE_PUSH_PULL = 0,
    NEXUS_GPIO_DRIVE_OPEN_DRAIN = 1,
    NEXUS_GPIO_DRIVE_OPEN_SOURCE = 2,
};
enum {
    NEXUS_GPIO_BIAS_AS_IS = 0,
    NEXUS_GPIO_BIAS_DISABLED = 1,
    NEXUS_GPIO_BIAS_PULL_UP = 2,
    NEXUS_GPIO_BIAS_PULL_DOWN = 3,
};

typedef struct {
    unsigned offset;
    int direction;      // NEXUS_GPIO_INPUT / OUTPUT
    int edge;           // inputs only
    int drive;          // outputs only
    int bias;
    int initial_value;  // outputs only, physical level 0/1
} nexus_gpio_line_settings;

typedef struct {
    unsigned offset;
    int rising;              // 1 rising, 0 falling
    uint64_t timestamp_ns;   // kernel timestamp (CLOCK_MONOTONIC by default)
} nexus_gpio_edge_event;

/// 1 for the v1 API (libgpiod 1.x), 2 for v2.
int nexus_gpio_api_version(void);

/// All functions returning int give 0 (or a count/value) on success and -errno on failure.
/// Pointer-returning ones give NULL and set *error to a positive errno.
nexus_gpio_chip *nexus_gpio_chip_open(const char *path, int *error);
void nexus_gpio_chip_close(nexus_gpio_chip *chip);
int nexus_gpio_chip_name(nexus_gpio_chip *chip, char *buf, size_t size);
int nexus_gpio_chip_label(nexus_gpio_chip *chip, char *buf, size_t size);
int nexus_gpio_chip_num_lines(nexus_gpio_chip *chip);
/// Offset of the line with this name on this chip, or -ENOENT.
int nexus_gpio_chip_find_line(nexus_gpio_chip *chip, const char *name);
/// Name of a line ("" if unnamed), whether someone holds it (and who), and how the kernel
/// has it configured: output (1) or input (0), and the drive (NEXUS_GPIO_DRIVE_*).
int nexus_gpio_chip_line_info(nexus_gpio_chip *chip, unsigned offset,
                              char *name, size_t name_size,
                              char *consumer, size_t consumer_size, int *used,
                              int *output, int *drive);

nexus_gpio_request *nexus_gpio_request_lines(nexus_gpio_chip *chip, const char *consumer,
                                             const nexus_gpio_line_settings *settings,
                                             size_t count, int *error);
void nexus_gpio_request_release(nexus_gpio_request *request);
/// index: position in the settings array given at request time.
int nexus_gpio_request_get_value(nexus_gpio_request *request, size_t index);
int nexus_gpio_request_set_value(nexus_gpio_request *request, size_t index, int value);
/// The fd to poll for edge events; the request must hold exactly one line with edges.
int nexus_gpio_request_event_fd(nexus_gpio_request *request);
/// Reads one pending edge event (blocks if none: poll first).
int nexus_gpio_request_read_event(nexus_gpio_request *request, nexus_gpio_edge_event *event);

/// Crash path: remember the level an output must take if the process dies of a fatal
/// signal (SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT). The handler writes these
/// levels with one ioctl each, then re-raises the signal. Returns -ENOSPC when full.
int nexus_gpio_crash_guard_add(nexus_gpio_request *request, size_t index, int safe_value);
void nexus_gpio_crash_guard_remove(nexus_gpio_request *request);

#endif
