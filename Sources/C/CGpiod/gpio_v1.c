// libgpiod v1 (1.6.x: Debian 12, Raspberry Pi OS bookworm).
#include "nexus_gpio.h"
#include "gpio_common.h"

#include <errno.h>
#include <gpiod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef GPIOD_LINE_BULK_MAX_LINES

struct nexus_gpio_chip {
    struct gpiod_chip *chip;
};

struct nexus_gpio_request {
    // v1 requests belong to a chip handle; a request keeps its own so that, as in v2,
    // it outlives the chip object the caller opened.
    struct gpiod_chip *chip;
    size_t count;
    struct gpiod_line *lines[GPIOD_LINE_BULK_MAX_LINES];
    int edge_index;
};

int nexus_gpio_api_version(void) { return 1; }

nexus_gpio_chip *nexus_gpio_chip_open(const char *path, int *error) {
    struct gpiod_chip *c = gpiod_chip_open(path);
    if (!c) { *error = errno ? errno : ENODEV; return NULL; }
    nexus_gpio_chip *chip = calloc(1, sizeof *chip);
    if (!chip) { gpiod_chip_close(c); *error = ENOMEM; return NULL; }
    chip->chip = c;
    return chip;
}

void nexus_gpio_chip_close(nexus_gpio_chip *chip) {
    if (!chip) return;
    gpiod_chip_close(chip->chip);
    free(chip);
}

int nexus_gpio_chip_name(nexus_gpio_chip *chip, char *buf, size_t size) {
    copy_string(buf, size, gpiod_chip_name(chip->chip));
    return 0;
}

int nexus_gpio_chip_label(nexus_gpio_chip *chip, char *buf, size_t size) {
    copy_string(buf, size, gpiod_chip_label(chip->chip));
    return 0;
}

int nexus_gpio_chip_num_lines(nexus_gpio_chip *chip) {
    return (int)gpiod_chip_num_lines(chip->chip);
}

int nexus_gpio_chip_find_line(nexus_gpio_chip *chip, const char *name) {
    errno = 0;
    struct gpiod_line *line = gpiod_chip_find_line(chip->chip, name);
    if (!line) return errno && errno != ENOENT ? -errno : -ENOENT;
    return (int)gpiod_line_offset(line);
}

int nexus_gpio_chip_line_info(nexus_gpio_chip *chip, unsigned offset,
                              char *name, size_t name_size,
                              char *consumer, size_t consumer_size, int *used,
                              int *output, int *drive) {
    struct gpiod_line *line = gpiod_chip_get_line(chip->chip, offset);
    if (!line) return -(errno ? errno : EINVAL);
    if (gpiod_line_update(line) < 0) return -errno;
    copy_string(name, name_size, gpiod_line_name(line));
    copy_string(consumer, consumer_size, gpiod_line_consumer(line));
    *used = gpiod_line_is_used(line) ? 1 : 0;
    *output = gpiod_line_direction(line) == GPIOD_LINE_DIRECTION_OUTPUT ? 1 : 0;
    *drive = gpiod_line_is_open_drain(line) ? NEXUS_GPIO_DRIVE_OPEN_DRAIN
           : gpiod_line_is_open_source(line) ? NEXUS_GPIO_DRIVE_OPEN_SOURCE : NEXUS_GPIO_DRIVE_PUSH_PULL;
    return 0;
}

static int request_type(const nexus_gpio_line_settings *s) {
    if (s->direction == NEXUS_GPIO_OUTPUT) return GPIOD_LINE_REQUEST_DIRECTION_OUTPUT;
    switch (s->edge) {
    case NEXUS_GPIO_EDGE_RISING: return GPIOD_LINE_REQUEST_EVENT_RISING_EDGE;
    case NEXUS_GPIO_EDGE_FALLING: return GPIOD_LINE_REQUEST_EVENT_FALLING_EDGE;
    case NEXUS_GPIO_EDGE_BOTH: return GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES;
    default: return GPIOD_LINE_REQUEST_DIRECTION_INPUT;
    }
}

static int request_flags(const nexus_gpio_line_settings *s) {
    int flags = 0;
    if (s->direction == NEXUS_GPIO_OUTPUT) {
        if (s->drive == NEXUS_GPIO_DRIVE_OPEN_DRAIN) flags |= GPIOD_LINE_REQUEST_FLAG_OPEN_DRAIN;
        if (s->drive == NEXUS_GPIO_DRIVE_OPEN_SOURCE) flags |= GPIOD_LINE_REQUEST_FLAG_OPEN_SOURCE;
    }
    switch (s->bias) {
    case NEXUS_GPIO_BIAS_DISABLED: flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE; break;
    case NEXUS_GPIO_BIAS_PULL_UP: flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP; break;
    case NEXUS_GPIO_BIAS_PULL_DOWN: flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN; break;
    default: break;
    }
    return flags;
}

nexus_gpio_request *nexus_gpio_request_lines(nexus_gpio_chip *chip, const char *consumer,
                                             const nexus_gpio_line_settings *settings,
                                             size_t count, int *error) {
    if (count == 0 || count > GPIOD_LINE_BULK_MAX_LINES) { *error = EINVAL; return NULL; }
    nexus_gpio_request *req = calloc(1, sizeof *req);
    if (!req) { *error = ENOMEM; return NULL; }
    req->edge_index = -1;
    // Reopen the same character device so the request owns its handle.
    char path[64];
    snprintf(path, sizeof path, "/dev/%s", gpiod_chip_name(chip->chip));
    req->chip = gpiod_chip_open(path);
    if (!req->chip) { *error = errno ? errno : ENODEV; free(req); return NULL; }
    for (size_t i = 0; i < count; i++) {
        const nexus_gpio_line_settings *s = &settings[i];
        struct gpiod_line *line = gpiod_chip_get_line(req->chip, s->offset);
        if (!line) { *error = errno ? errno : EINVAL; goto fail; }
        struct gpiod_line_request_config cfg = {
            .consumer = consumer,
            .request_type = request_type(s),
            .flags = request_flags(s),
        };
        if (gpiod_line_request(line, &cfg, s->initial_value ? 1 : 0) < 0) {
            *error = errno ? errno : EIO;
            goto fail;
        }
        req->lines[i] = line;
        req->count = i + 1;
        if (s->direction == NEXUS_GPIO_INPUT && s->edge != NEXUS_GPIO_EDGE_NONE) {
            if (req->edge_index >= 0) { *error = EINVAL; goto fail; }
            req->edge_index = (int)i;
        }
    }
    return req;
fail:
    nexus_gpio_request_release(req);
    return NULL;
}

void nexus_gpio_request_release(nexus_gpio_request *req) {
    if (!req) return;
    nexus_gpio_crash_guard_remove(req);
    for (size_t i = 0; i < req->count; i++)
        if (req->lines[i]) gpiod_line_release(req->lines[i]);
    gpiod_chip_close(req->chip);
    free(req);
}

int nexus_gpio_request_get_value(nexus_gpio_request *req, size_t index) {
    if (index >= req->count) return -EINVAL;
    int v = gpiod_line_get_value(req->lines[index]);
    return v < 0 ? -errno : v;
}

int nexus_gpio_request_set_value(nexus_gpio_request *req, size_t index, int value) {
    if (index >= req->count) return -EINVAL;
    return gpiod_line_set_value(req->lines[index], value ? 1 : 0) < 0 ? -errno : 0;
}

int nexus_gpio_request_event_fd(nexus_gpio_request *req) {
    if (req->edge_index < 0) return -EINVAL;
    int fd = gpiod_line_event_get_fd(req->lines[req->edge_index]);
    return fd < 0 ? -errno : fd;
}

int nexus_gpio_request_read_event(nexus_gpio_request *req, nexus_gpio_edge_event *event) {
    if (req->edge_index < 0) return -EINVAL;
    struct gpiod_line_event ev;
    if (gpiod_line_event_read(req->lines[req->edge_index], &ev) < 0) return -errno;
    event->offset = gpiod_line_offset(req->lines[req->edge_index]);
    event->rising = ev.event_type == GPIOD_LINE_EVENT_RISING_EDGE;
    event->timestamp_ns = (uint64_t)ev.ts.tv_sec * 1000000000ull + (uint64_t)ev.ts.tv_nsec;
    return 0;
}

#endif
