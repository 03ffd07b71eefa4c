#ifndef NEXUS_SENSORS_H
#define NEXUS_SENSORS_H
// Shim over libsensors: a flat cursor over every input of every detected chip.
// libsensors keeps global state, so one context at a time (the Swift side enforces it).
#include <stddef.h>

enum {
    NEXUS_SENSOR_VOLTAGE = 0,     // volts
    NEXUS_SENSOR_FAN = 1,         // RPM
    NEXUS_SENSOR_TEMPERATURE = 2, // degrees Celsius
    NEXUS_SENSOR_POWER = 3,       // watts
    NEXUS_SENSOR_ENERGY = 4,      // joules
    NEXUS_SENSOR_CURRENT = 5,     // amperes
    NEXUS_SENSOR_HUMIDITY = 6,    // percent
    NEXUS_SENSOR_OTHER = 99,
};

enum { NEXUS_BUS_OTHER = 0, NEXUS_BUS_I2C = 1, NEXUS_BUS_ISA = 2, NEXUS_BUS_PLATFORM = 3, NEXUS_BUS_VIRTUAL = 4 };

typedef struct {
    int chip_index;
    int feature_index;
} nexus_sensors_cursor;

typedef struct {
    char chip[96];        // "ina219-i2c-1-40", "cpu_thermal-virtual-0"
    char prefix[48];      // "ina219"
    char adapter[96];     // "bcm2835 (i2c@7e804000)", "Virtual device"
    char label[64];       // "temp1", or the configured label
    char feature[32];     // sysfs feature name: "in1", "temp1", "power1"
    char path[160];       // hwmon directory
    int bus_type;         // NEXUS_BUS_*
    int bus_number;
    int address;
    int kind;             // NEXUS_SENSOR_*
    int has_input;        // 0 for a feature that only has alarms
    int has_value;
    double value;
    int read_error;       // libsensors error number when has_value == 0
    int alarm;            // 1 when an alarm subfeature (alarm, lcrit_alarm, crit_alarm) is set
} nexus_sensor_reading;

/// config_path NULL: no configuration file (hwmon values as the kernel gives them).
/// Returns 0 or a libsensors error number.
int nexus_sensors_init(const char *config_path);
void nexus_sensors_cleanup(void);
const char *nexus_sensors_strerror(int error);
/// Fills the next input. Returns 1, or 0 when there are no more.
int nexus_sensors_next(nexus_sensors_cursor *cursor, nexus_sensor_reading *out);
const char *nexus_sensors_version(void);

#endif
