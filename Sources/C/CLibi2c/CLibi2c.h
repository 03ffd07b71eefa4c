// i2c-tools' libi2c (SMBus transfers) and the kernel's i2c-dev ioctls.
#include <i2c/smbus.h>
#include <linux/i2c-dev.h>
