#ifndef NEXUS_I2C_H
#define NEXUS_I2C_H
// Thin shim over i2c-dev and libi2c: only ints cross this line, and every failure
// returns a negative errno so callers never have to read the global.
#include <stdint.h>

/// Opens /dev/i2c-N read-write. Returns the fd or -errno.
int nexus_i2c_open(const char *path);
/// Selects the target address (ioctl I2C_SLAVE). EBUSY means a kernel driver owns it.
int nexus_i2c_set_address(int fd, unsigned address);
/// Reports whether the adapter can do SMBus word reads and writes (I2C_FUNCS).
/// Returns 1 yes, 0 no, or -errno.
int nexus_i2c_supports_smbus_word(int fd);
/// SMBus read word (little-endian on the wire). Returns 0...0xFFFF or -errno.
int32_t nexus_i2c_read_word(int fd, uint8_t reg);
/// SMBus write word. Returns 0 or -errno.
int32_t nexus_i2c_write_word(int fd, uint8_t reg, uint16_t value);
int nexus_i2c_close(int fd);

#endif
