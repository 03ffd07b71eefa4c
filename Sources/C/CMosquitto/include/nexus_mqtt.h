#ifndef NEXUS_MQTT_H
#define NEXUS_MQTT_H
// Shim over libmosquitto for a client driven by the caller's own poll loop. Callbacks
// fire inside nexus_mqtt_loop_* calls (on the caller's thread) and only queue events;
// the caller drains them with nexus_mqtt_next_event. No libmosquitto type crosses here.
#include <stddef.h>
#include <stdint.h>

typedef struct nexus_mqtt nexus_mqtt;

enum {
    NEXUS_MQTT_EVENT_CONNECTED = 1,     // rc: CONNACK code (0 accepted)
    NEXUS_MQTT_EVENT_DISCONNECTED = 2,  // rc: 0 when we asked for it
    NEXUS_MQTT_EVENT_MESSAGE = 3,       // topic, payload, qos, retain
    NEXUS_MQTT_EVENT_PUBLISHED = 4,     // mid acknowledged (QoS 1) or sent (QoS 0)
    NEXUS_MQTT_EVENT_SUBSCRIBED = 5,    // mid
};

typedef struct {
    int type;
    int rc;
    int mid;
    int qos;
    int retain;
    char *topic;        // owned by the event: free with nexus_mqtt_event_free
    uint8_t *payload;
    size_t length;
} nexus_mqtt_event;

/// Library init (idempotent) and version "2.0.11".
void nexus_mqtt_library_init(char *version, size_t size);
/// error: set to a MOSQ_ERR_* or errno-derived code on failure.
nexus_mqtt *nexus_mqtt_new(const char *client_id, int clean_session, int *error);
void nexus_mqtt_destroy(nexus_mqtt *m);
int nexus_mqtt_set_protocol(nexus_mqtt *m, int version /* 4 = 3.1.1, 5 */);
int nexus_mqtt_set_credentials(nexus_mqtt *m, const char *username, const char *password);
int nexus_mqtt_set_will(nexus_mqtt *m, const char *topic, const void *payload, size_t length, int qos, int retain);
int nexus_mqtt_set_tls(nexus_mqtt *m, const char *ca_file, const char *cert_file, const char *key_file);
/// Starts a non-blocking connect; finish it by driving the loop.
int nexus_mqtt_connect(nexus_mqtt *m, const char *host, int port, int keepalive);
int nexus_mqtt_reconnect(nexus_mqtt *m);
int nexus_mqtt_disconnect(nexus_mqtt *m);
int nexus_mqtt_publish(nexus_mqtt *m, const char *topic, const void *payload, size_t length,
                       int qos, int retain, int *mid);
int nexus_mqtt_subscribe(nexus_mqtt *m, const char *pattern, int qos, int *mid);
/// The socket to poll (-1 when not connected), and whether to poll for writability.
int nexus_mqtt_socket(nexus_mqtt *m);
int nexus_mqtt_want_write(nexus_mqtt *m);
int nexus_mqtt_loop_read(nexus_mqtt *m);
int nexus_mqtt_loop_write(nexus_mqtt *m);
int nexus_mqtt_loop_misc(nexus_mqtt *m);
/// 1 and fills *event when one is queued; 0 when none.
int nexus_mqtt_next_event(nexus_mqtt *m, nexus_mqtt_event *event);
void nexus_mqtt_event_free(nexus_mqtt_event *event);
const char *nexus_mqtt_strerror(int error);
const char *nexus_mqtt_connack_string(int rc);

#endif
