#include <sensors/sensors.h>
