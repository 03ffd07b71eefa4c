// libgpiod v2 (2.x: Debian 13, Raspberry Pi OS trixie). v1's header defines
// GPIOD_LINE_BULK_MAX_LINES; v2's does not.
#include "nexus_gpio.h"
#include "gpio_common.h"

#include <errno.h>
#include <gpiod.h>
#include <stdlib.h>
#include <string.h>

#ifndef GPIOD_LINE_BULK_MAX_LINES

#define MAX_LINES 64

struct nexus_gpio_chip {
    struct gpiod_chip *chip;
    struct gpiod_chip_info *info;
};

struct nexus_gpio_request {
    struct gpiod_line_request *request;
    size_t count;
    unsigned offsets[MAX_LINES];
    int edge_index;
    struct gpiod_edge_event_buffer *events;
};

int nexus_gpio_api_version(void) { return 2; }

nexus_gpio_chip *nexus_gpio_chip_open(const char *path, int *error) {
    struct gpiod_chip *c = gpiod_chip_open(path);
    if (!c) { *error = errno ? errno : ENODEV; return NULL; }
    struct gpiod_chip_info *info = gpiod_chip_get_info(c);
    if (!info) { *error = errno ? errno : EIO; gpiod_chip_close(c); return NULL; }
    nexus_gpio_chip *chip = calloc(1, sizeof *chip);
    if (!chip) { gpiod_chip_info_free(info); gpiod_chip_close(c); *error = ENOMEM; return NULL; }
    chip->chip = c;
    chip->info = info;
    return chip;
}

void nexus_gpio_chip_close(nexus_gpio_chip *chip) {
    if (!chip) return;
    gpiod_chip_info_free(chip->info);
    gpiod_chip_close(chip->chip);
    free(chip);
}

int nexus_gpio_chip_name(nexus_gpio_chip *chip, char *buf, size_t size) {
    copy_string(buf, size, gpiod_chip_info_get_name(chip->info));
    return 0;
}

int nexus_gpio_chip_label(nexus_gpio_chip *chip, char *buf, size_t size) {
    copy_string(buf, size, gpiod_chip_info_get_label(chip->info));
    return 0;
}

int nexus_gpio_chip_num_lines(nexus_gpio_chip *chip) {
    return (int)gpiod_chip_info_get_num_lines(chip->info);
}

int nexus_gpio_chip_find_line(nexus_gpio_chip *chip, const char *name) {
    errno = 0;
    int offset = gpiod_chip_get_line_offset_from_name(chip->chip, name);
    if (offset < 0) return errno && errno != ENOENT ? -errno : -ENOENT;
    return offset;
}

int nexus_gpio_chip_line_info(nexus_gpio_chip *chip, unsigned offset,
                              char *name, size_t name_size,
                              char *consumer, size_t consumer_size, int *used,
                              int *output, int *drive) {
    struct gpiod_line_info *info = gpiod_chip_get_line_info(chip->chip, offset);
    if (!info) return -(errno ? errno : EINVAL);
    copy_string(name, name_size, gpiod_line_info_get_name(info));
    copy_string(consumer, consumer_size, gpiod_line_info_get_consumer(info));
    *used = gpiod_line_info_is_used(info) ? 1 : 0;
    *output = gpiod_line_info_get_direction(info) == GPIOD_LINE_DIRECTION_OUTPUT ? 1 : 0;
    switch (gpiod_line_info_get_drive(info)) {
    case GPIOD_LINE_DRIVE_OPEN_DRAIN: *drive = NEXUS_GPIO_DRIVE_OPEN_DRAIN; break;
    case GPIOD_LINE_DRIVE_OPEN_SOURCE: *drive = NEXUS_GPIO_DRIVE_OPEN_SOURCE; break;
    default: *drive = NEXUS_GPIO_DRIVE_PUSH_PULL; break;
    }
    gpiod_line_info_free(info);
    return 0;
}

static int apply(struct gpiod_line_settings *ls, const nexus_gpio_line_settings *s) {
    if (s->direction == NEXUS_GPIO_OUTPUT) {
        enum gpiod_line_drive drive = GPIOD_LINE_DRIVE_PUSH_PULL;
        if (s->drive == NEXUS_GPIO_DRIVE_OPEN_DRAIN) drive = GPIOD_LINE_DRIVE_OPEN_DRAIN;
        if (s->drive == NEXUS_GPIO_DRIVE_OPEN_SOURCE) drive = GPIOD_LINE_DRIVE_OPEN_SOURCE;
        if (gpiod_line_settings_set_direction(ls, GPIOD_LINE_DIRECTION_OUTPUT) < 0) return -1;
        if (gpiod_line_settings_set_drive(ls, drive) < 0) return -1;
        if (gpiod_line_settings_set_output_value(ls, s->initial_value ? GPIOD_LINE_VALUE_ACTIVE
                                                                      : GPIOD_LINE_VALUE_INACTIVE) < 0) return -1;
    } else {
        enum gpiod_line_edge edge = GPIOD_LINE_EDGE_NONE;
        if (s->edge == NEXUS_GPIO_EDGE_RISING) edge = GPIOD_LINE_EDGE_RISING;
        if (s->edge == NEXUS_GPIO_EDGE_FALLING) edge = GPIOD_LINE_EDGE_FALLING;
        if (s->edge == NEXUS_GPIO_EDGE_BOTH) edge = GPIOD_LINE_EDGE_BOTH;
        if (gpiod_line_settings_set_direction(ls, GPIOD_LINE_DIRECTION_INPUT) < 0) return -1;
        if (gpiod_line_settings_set_edge_detection(ls, edge) < 0) return -1;
    }
    enum gpiod_line_bias bias = GPIOD_LINE_BIAS_AS_IS;
    if (s->bias == NEXUS_GPIO_BIAS_DISABLED) bias = GPIOD_LINE_BIAS_DISABLED;
    if (s->bias == NEXUS_GPIO_BIAS_PULL_UP) bias = GPIOD_LINE_BIAS_PULL_UP;
    if (s->bias == NEXUS_GPIO_BIAS_PULL_DOWN) bias = GPIOD_LINE_BIAS_PULL_DOWN;
    return gpiod_line_settings_set_bias(ls, bias);
}

nexus_gpio_request *nexus_gpio_request_lines(nexus_gpio_chip *chip, const char *consumer,
                                             const nexus_gpio_line_settings *settings,
                                             size_t count, int *error) {
    if (count == 0 || count > MAX_LINES) { *error = EINVAL; return NULL; }
    nexus_gpio_request *req = calloc(1, sizeof *req);
    struct gpiod_line_config *lc = gpiod_line_config_new();
    struct gpiod_request_config *rc = gpiod_request_config_new();
    struct gpiod_line_settings *ls = NULL;
    if (!req || !lc || !rc) { *error = ENOMEM; goto fail; }
    req->edge_index = -1;
    gpiod_request_config_set_consumer(rc, consumer);
    for (size_t i = 0; i < count; i++) {
        ls = gpiod_line_settings_new();
        if (!ls) { *error = ENOMEM; goto fail; }
        if (apply(ls, &settings[i]) < 0) { *error = errno ? errno : EINVAL; goto fail; }
        unsigned offset = settings[i].offset;
        if (gpiod_line_config_add_line_settings(lc, &offset, 1, ls) < 0) { *error = errno ? errno : EINVAL; goto fail; }
        gpiod_line_settings_free(ls);
        ls = NULL;
        req->offsets[i] = offset;
        if (settings[i].direction == NEXUS_GPIO_INPUT && settings[i].edge != NEXUS_GPIO_EDGE_NONE) {
            if (req->edge_index >= 0) { *error = EINVAL; goto fail; }
            req->edge_index = (int)i;
        }
    }
    req->count = count;
    req->request = gpiod_chip_request_lines(chip->chip, rc, lc);
    if (!req->request) { *error = errno ? errno : EIO; goto fail; }
    if (req->edge_index >= 0) {
        req->events = gpiod_edge_event_buffer_new(1);
        if (!req->events) { *error = ENOMEM; goto fail; }
    }
    gpiod_line_config_free(lc);
    gpiod_request_config_free(rc);
    return req;
fail:
    gpiod_line_settings_free(ls);
    gpiod_line_config_free(lc);
    gpiod_request_config_free(rc);
    nexus_gpio_request_release(req);
    return NULL;
}

void nexus_gpio_request_release(nexus_gpio_request *req) {
    if (!req) return;
    nexus_gpio_crash_guard_remove(req);
    if (req->request) gpiod_line_request_release(req->request);
    if (req->events) gpiod_edge_event_buffer_free(req->events);
    free(req);
}

int nexus_gpio_request_get_value(nexus_gpio_request *req, size_t index) {
    if (index >= req->count) return -EINVAL;
    enum gpiod_line_value v = gpiod_line_request_get_value(req->request, req->offsets[index]);
    if (v == GPIOD_LINE_VALUE_ERROR) return -(errno ? errno : EIO);
    return v == GPIOD_LINE_VALUE_ACTIVE ? 1 : 0;
}

int nexus_gpio_request_set_value(nexus_gpio_request *req, size_t index, int value) {
    if (index >= req->count) return -EINVAL;
    int r = gpiod_line_request_set_value(req->request, req->offsets[index],
                                         value ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
    return r < 0 ? -(errno ? errno : EIO) : 0;
}

int nexus_gpio_request_event_fd(nexus_gpio_request *req) {
    if (req->edge_index < 0) return -EINVAL;
    int fd = gpiod_line_request_get_fd(req->request);
    return fd < 0 ? -errno : fd;
}

int nexus_gpio_request_read_event(nexus_gpio_request *req, nexus_gpio_edge_event *event) {
    if (req->edge_index < 0 || !req->events) return -EINVAL;
    int n = gpiod_line_request_read_edge_events(req->request, req->events, 1);
    if (n < 0) return -(errno ? errno : EIO);
    if (n == 0) return -EAGAIN;
    struct gpiod_edge_event *ev = gpiod_edge_event_buffer_get_event(req->events, 0);
    event->offset = gpiod_edge_event_get_line_offset(ev);
    event->rising = gpiod_edge_event_get_event_type(ev) == GPIOD_EDGE_EVENT_RISING_EDGE;
    event->timestamp_ns = gpiod_edge_event_get_timestamp_ns(ev);
    return 0;
}

#endif
