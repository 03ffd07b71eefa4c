#include "nexus_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

int nexus_send_udp_broadcast(const char *interface, uint16_t port, const uint8_t *payload, size_t length) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    int r = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0) { r = -errno; goto out; }
    if (interface && *interface) {
        if (if_nametoindex(interface) == 0) { r = -ENODEV; goto out; }
        if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, interface, (socklen_t)strlen(interface)) < 0) { r = -errno; goto out; }
    }
    struct sockaddr_in to;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
    if (sendto(fd, payload, length, 0, (struct sockaddr *)&to, sizeof to) < 0) r = -errno;
out:
    close(fd);
    return r;
}

int nexus_interface_mac(const char *interface, uint8_t mac[6]) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct ifreq req;
    memset(&req, 0, sizeof req);
    strncpy(req.ifr_name, interface, IFNAMSIZ - 1);
    int r = ioctl(fd, SIOCGIFHWADDR, &req) < 0 ? -errno : 0;
    if (r == 0) memcpy(mac, req.ifr_hwaddr.sa_data, 6);
    close(fd);
    return r;
}

int nexus_send_ethernet(const char *interface, const uint8_t destination[6], uint16_t ethertype,
                        const uint8_t *payload, size_t length) {
    unsigned index = if_nametoindex(interface);
    if (index == 0) return -ENODEV;
    uint8_t source[6];
    int r = nexus_interface_mac(interface, source);
    if (r < 0) return r;
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ethertype));
    if (fd < 0) return -errno;
    uint8_t frame[1514];
    if (length > sizeof frame - 14) { close(fd); return -EMSGSIZE; }
    memcpy(frame, destination, 6);
    memcpy(frame + 6, source, 6);
    frame[12] = (uint8_t)(ethertype >> 8);
    frame[13] = (uint8_t)(ethertype & 0xFF);
    memcpy(frame + 14, payload, length);
    struct sockaddr_ll to;
    memset(&to, 0, sizeof to);
    to.sll_family = AF_PACKET;
    to.sll_ifindex = (int)index;
    to.sll_halen = 6;
    memcpy(to.sll_addr, destination, 6);
    r = sendto(fd, frame, length + 14, 0, (struct sockaddr *)&to, sizeof to) < 0 ? -errno : 0;
    close(fd);
    return r;
}

int nexus_wol_get(const char *interface, uint32_t *supported, uint32_t *armed) {
    if (!interface || strlen(interface) >= IFNAMSIZ) return -ENODEV;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct ethtool_wolinfo wol;
    memset(&wol, 0, sizeof wol);
    wol.cmd = ETHTOOL_GWOL;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, interface, IFNAMSIZ - 1);
    ifr.ifr_data = (char *)&wol;
    int r = ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
    close(fd);
    if (r == 0) {
        *supported = wol.supported;
        *armed = wol.wolopts;
    }
    return r;
}
