#include "nexus_mqtt.h"

#include <errno.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_SIZE 256

struct nexus_mqtt {
    struct mosquitto *mosq;
    nexus_mqtt_event queue[QUEUE_SIZE];
    size_t head, count;
    size_t dropped;
};

static void push(nexus_mqtt *m, nexus_mqtt_event e) {
    if (m->count == QUEUE_SIZE) {
        // The caller drains after every loop call, so this only guards a flood of
        // incoming messages; the oldest goes.
        nexus_mqtt_event_free(&m->queue[m->head]);
        m->head = (m->head + 1) % QUEUE_SIZE;
        m->count--;
        m->dropped++;
    }
    m->queue[(m->head + m->count) % QUEUE_SIZE] = e;
    m->count++;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc) {
    (void)mosq;
    nexus_mqtt_event e = { .type = NEXUS_MQTT_EVENT_CONNECTED, .rc = rc };
    push(obj, e);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc) {
    (void)mosq;
    nexus_mqtt_event e = { .type = NEXUS_MQTT_EVENT_DISCONNECTED, .rc = rc };
    push(obj, e);
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid) {
    (void)mosq;
    nexus_mqtt_event e = { .type = NEXUS_MQTT_EVENT_PUBLISHED, .mid = mid };
    push(obj, e);
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int count, const int *granted) {
    (void)mosq; (void)count; (void)granted;
    nexus_mqtt_event e = { .type = NEXUS_MQTT_EVENT_SUBSCRIBED, .mid = mid };
    push(obj, e);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg) {
    (void)mosq;
    nexus_mqtt_event e = { .type = NEXUS_MQTT_EVENT_MESSAGE, .mid = msg->mid, .qos = msg->qos,
                           .retain = msg->retain };
    e.topic = strdup(msg->topic ? msg->topic : "");
    e.length = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
    e.payload = malloc(e.length + 1);
    if (!e.topic || !e.payload) { free(e.topic); free(e.payload); return; }
    if (e.length) memcpy(e.payload, msg->payload, e.length);
    e.payload[e.length] = 0;
    push(obj, e);
}

void nexus_mqtt_library_init(char *version, size_t size) {
    static int done;
    if (!done) { mosquitto_lib_init(); done = 1; }
    int major, minor, rev;
    mosquitto_lib_version(&major, &minor, &rev);
    snprintf(version, size, "%d.%d.%d", major, minor, rev);
}

nexus_mqtt *nexus_mqtt_new(const char *client_id, int clean_session, int *error) {
    nexus_mqtt *m = calloc(1, sizeof *m);
    if (!m) { *error = MOSQ_ERR_NOMEM; return NULL; }
    errno = 0;
    m->mosq = mosquitto_new(client_id, clean_session != 0, m);
    if (!m->mosq) { *error = errno == EINVAL ? MOSQ_ERR_INVAL : MOSQ_ERR_NOMEM; free(m); return NULL; }
    mosquitto_connect_callback_set(m->mosq, on_connect);
    mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
    mosquitto_publish_callback_set(m->mosq, on_publish);
    mosquitto_subscribe_callback_set(m->mosq, on_subscribe);
    mosquitto_message_callback_set(m->mosq, on_message);
    return m;
}

void nexus_mqtt_destroy(nexus_mqtt *m) {
    if (!m) return;
    nexus_mqtt_event e;
    while (nexus_mqtt_next_event(m, &e)) nexus_mqtt_event_free(&e);
    mosquitto_destroy(m->mosq);
    free(m);
}

int nexus_mqtt_set_protocol(nexus_mqtt *m, int version) {
    return mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION,
                                version == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
}

int nexus_mqtt_set_credentials(nexus_mqtt *m, const char *username, const char *password) {
    return mosquitto_username_pw_set(m->mosq, username, password);
}

int nexus_mqtt_set_will(nexus_mqtt *m, const char *topic, const void *payload, size_t length, int qos, int retain) {
    return mosquitto_will_set(m->mosq, topic, (int)length, payload, qos, retain != 0);
}

int nexus_mqtt_set_tls(nexus_mqtt *m, const char *ca_file, const char *cert_file, const char *key_file) {
    return mosquitto_tls_set(m->mosq, ca_file, NULL, cert_file, key_file, NULL);
}

int nexus_mqtt_connect(nexus_mqtt *m, const char *host, int port, int keepalive) {
    // connect_async only starts the TCP connect; the caller's loop (loop_write when the
    // socket turns writable, loop_read for CONNACK) completes it.
    return mosquitto_connect_async(m->mosq, host, port, keepalive);
}

int nexus_mqtt_reconnect(nexus_mqtt *m) { return mosquitto_reconnect_async(m->mosq); }
int nexus_mqtt_disconnect(nexus_mqtt *m) { return mosquitto_disconnect(m->mosq); }

int nexus_mqtt_publish(nexus_mqtt *m, const char *topic, const void *payload, size_t length,
                       int qos, int retain, int *mid) {
    return mosquitto_publish(m->mosq, mid, topic, (int)length, payload, qos, retain != 0);
}

int nexus_mqtt_subscribe(nexus_mqtt *m, const char *pattern, int qos, int *mid) {
    return mosquitto_subscribe(m->mosq, mid, pattern, qos);
}

int nexus_mqtt_socket(nexus_mqtt *m) { return mosquitto_socket(m->mosq); }
int nexus_mqtt_want_write(nexus_mqtt *m) { return mosquitto_want_write(m->mosq) ? 1 : 0; }
int nexus_mqtt_loop_read(nexus_mqtt *m) { return mosquitto_loop_read(m->mosq, 1); }
int nexus_mqtt_loop_write(nexus_mqtt *m) { return mosquitto_loop_write(m->mosq, 1); }
int nexus_mqtt_loop_misc(nexus_mqtt *m) { return mosquitto_loop_misc(m->mosq); }

int nexus_mqtt_next_event(nexus_mqtt *m, nexus_mqtt_event *event) {
    if (m->count == 0) return 0;
    *event = m->queue[m->head];
    m->head = (m->head + 1) % QUEUE_SIZE;
    m->count--;
    return 1;
}

void nexus_mqtt_event_free(nexus_mqtt_event *event) {
    free(event->topic);
    free(event->payload);
    event->topic = NULL;
    event->payload = NULL;
}

const char *nexus_mqtt_strerror(int error) { return mosquitto_strerror(error); }
const char *nexus_mqtt_connack_string(int rc) { return mosquitto_connack_string(rc); }
