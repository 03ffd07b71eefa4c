#include "nexus_i2c.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <i2c/smbus.h>
#include <linux/i2c-dev.h>

int nexus_i2c_open(const char *path) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int nexus_i2c_set_address(int fd, unsigned address) {
    // ioctl is variadic, which Swift cannot call; this is the reason the shim exists.
    return ioctl(fd, I2C_SLAVE, (unsigned long)address) < 0 ? -errno : 0;
}

int nexus_i2c_supports_smbus_word(int fd) {
    unsigned long funcs = 0;
    if (ioctl(fd, I2C_FUNCS, &funcs) < 0) return -errno;
    unsigned long need = I2C_FUNC_SMBUS_READ_WORD_DATA | I2C_FUNC_SMBUS_WRITE_WORD_DATA;
    return (funcs & need) == need ? 1 : 0;
}

int32_t nexus_i2c_read_word(int fd, uint8_t reg) {
    // libi2c 4.x returns -errno itself; older copies returned -1 with errno set.
    errno = 0;
    int32_t r = i2c_smbus_read_word_data(fd, reg);
    if (r == -1 && errno != 0) return -errno;
    return r;
}

int32_t nexus_i2c_write_word(int fd, uint8_t reg, uint16_t value) {
    errno = 0;
    int32_t r = i2c_smbus_write_word_data(fd, reg, value);
    if (r == -1 && errno != 0) return -errno;
    return r < 0 ? r : 0;
}

int nexus_i2c_close(int fd) {
    return close(fd) < 0 ? -errno : 0;
}
