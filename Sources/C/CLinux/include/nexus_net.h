#ifndef NEXUS_NET_H
#define NEXUS_NET_H
// Sending Wake-on-LAN packets: the socket options and ioctls Swift cannot reach
// directly (variadic ioctl, sockaddr_ll). Every function returns 0 or -errno.
#include <stddef.h>
#include <stdint.h>

/// UDP to 255.255.255.255:port, out of `interface` if given (SO_BINDTODEVICE).
int nexus_send_udp_broadcast(const char *interface, uint16_t port, const uint8_t *payload, size_t length);
/// A raw Ethernet frame of `ethertype` to `destination` on `interface` (needs CAP_NET_RAW).
/// The source address is the interface's own.
int nexus_send_ethernet(const char *interface, const uint8_t destination[6], uint16_t ethertype,
                        const uint8_t *payload, size_t length);
/// ETHTOOL_GWOL: the wake sources the NIC supports and those armed (WAKE_* bits; magic
/// packet is 1 << 5). The kernel wants CAP_NET_ADMIN for it: the reply can carry the
/// SecureOn password.
int nexus_wol_get(const char *interface, uint32_t *supported, uint32_t *armed);
/// The interface's hardware address.
int nexus_interface_mac(const char *interface, uint8_t mac[6]);

#endif
