#include "nexus_sensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sensors/sensors.h>
#include <sensors/error.h>

int nexus_sensors_init(const char *config_path) {
    FILE *f = NULL;
    if (config_path) {
        f = fopen(config_path, "r");
        if (!f) return SENSORS_ERR_KERNEL;
    }
    int r = sensors_init(f);
    if (f) fclose(f);
    return r;
}

void nexus_sensors_cleanup(void) { sensors_cleanup(); }

const char *nexus_sensors_strerror(int error) { return sensors_strerror(error); }

// A static inline accessor would also do; Swift 6.0 rejects reading the mutable global.
const char *nexus_sensors_version(void) { return libsensors_version; }

static void copy_string(char *buf, size_t size, const char *s) {
    if (!s) s = "";
    strncpy(buf, s, size - 1);
    buf[size - 1] = 0;
}

static int bus_type(short type) {
    switch (type) {
    case SENSORS_BUS_TYPE_I2C: return NEXUS_BUS_I2C;
    case SENSORS_BUS_TYPE_ISA: return NEXUS_BUS_ISA;
    case 6 /* SENSORS_BUS_TYPE_PLATFORM, not in every header copy */: return NEXUS_BUS_PLATFORM;
    case SENSORS_BUS_TYPE_VIRTUAL: return NEXUS_BUS_VIRTUAL;
    default: return NEXUS_BUS_OTHER;
    }
}

static int input_subfeature(sensors_feature_type type, int *kind) {
    switch (type) {
    case SENSORS_FEATURE_IN: *kind = NEXUS_SENSOR_VOLTAGE; return SENSORS_SUBFEATURE_IN_INPUT;
    case SENSORS_FEATURE_FAN: *kind = NEXUS_SENSOR_FAN; return SENSORS_SUBFEATURE_FAN_INPUT;
    case SENSORS_FEATURE_TEMP: *kind = NEXUS_SENSOR_TEMPERATURE; return SENSORS_SUBFEATURE_TEMP_INPUT;
    case SENSORS_FEATURE_POWER: *kind = NEXUS_SENSOR_POWER; return SENSORS_SUBFEATURE_POWER_INPUT;
    case SENSORS_FEATURE_ENERGY: *kind = NEXUS_SENSOR_ENERGY; return SENSORS_SUBFEATURE_ENERGY_INPUT;
    case SENSORS_FEATURE_CURR: *kind = NEXUS_SENSOR_CURRENT; return SENSORS_SUBFEATURE_CURR_INPUT;
    case SENSORS_FEATURE_HUMIDITY: *kind = NEXUS_SENSOR_HUMIDITY; return SENSORS_SUBFEATURE_HUMIDITY_INPUT;
    default: *kind = NEXUS_SENSOR_OTHER; return -1;
    }
}

static int alarm_set(const sensors_chip_name *chip, const sensors_feature *feature) {
    int nr = 0;
    const sensors_subfeature *sub;
    while ((sub = sensors_get_all_subfeatures(chip, feature, &nr))) {
        if (!(sub->flags & SENSORS_MODE_R)) continue;
        // Only *_alarm and *_fault: the 0x80 range also holds type, offset and beep.
        size_t n = strlen(sub->name);
        int is_alarm = (n > 6 && strcmp(sub->name + n - 6, "_alarm") == 0) ||
                       (n > 6 && strcmp(sub->name + n - 6, "_fault") == 0);
        if (!is_alarm) continue;
        double v = 0;
        if (sensors_get_value(chip, sub->number, &v) == 0 && v != 0) return 1;
    }
    return 0;
}

int nexus_sensors_next(nexus_sensors_cursor *cursor, nexus_sensor_reading *out) {
    for (;;) {
        int chip_nr = cursor->chip_index;
        const sensors_chip_name *chip = sensors_get_detected_chips(NULL, &chip_nr);
        if (!chip) return 0;
        int feature_nr = cursor->feature_index;
        const sensors_feature *feature;
        while ((feature = sensors_get_features(chip, &feature_nr))) {
            int kind;
            int subtype = input_subfeature(feature->type, &kind);
            if (subtype < 0) continue;
            const sensors_subfeature *sub = sensors_get_subfeature(chip, feature, (sensors_subfeature_type)subtype);
            if (!sub && feature->type == SENSORS_FEATURE_POWER)
                sub = sensors_get_subfeature(chip, feature, SENSORS_SUBFEATURE_POWER_AVERAGE);
            // Alarm-only features still matter: the Pi's rpi_volt chip has just
            // in0_lcrit_alarm (under-voltage).
            int alarm = alarm_set(chip, feature);
            if (!sub && !alarm) continue;
            memset(out, 0, sizeof *out);
            out->has_input = 1;
            sensors_snprintf_chip_name(out->chip, sizeof out->chip, chip);
            copy_string(out->prefix, sizeof out->prefix, chip->prefix);
            copy_string(out->adapter, sizeof out->adapter, sensors_get_adapter_name(&chip->bus));
            char *label = sensors_get_label(chip, feature);
            copy_string(out->label, sizeof out->label, label ? label : feature->name);
            free(label);
            copy_string(out->feature, sizeof out->feature, feature->name);
            copy_string(out->path, sizeof out->path, chip->path);
            out->bus_type = bus_type(chip->bus.type);
            out->bus_number = chip->bus.nr;
            out->address = chip->addr;
            out->kind = kind;
            if (sub) {
                int r = sensors_get_value(chip, sub->number, &out->value);
                out->has_value = r == 0;
                out->read_error = r < 0 ? -r : r;
            } else {
                out->has_input = 0;
            }
            out->alarm = alarm;
            // Resume after this feature next time; the chip cursor stays.
            cursor->feature_index = feature_nr;
            return 1;
        }
        cursor->chip_index = chip_nr;
        cursor->feature_index = 0;
    }
}
