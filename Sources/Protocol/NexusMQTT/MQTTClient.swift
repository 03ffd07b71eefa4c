public import NexusHardware
internal import CMosquitto
#if canImport(Glibc)
internal import Glibc
#endif

public struct MQTTSettings: Equatable, Sendable {
    public var broker: BrokerURL
    public var clientID: String
    public var username: String?
    public var password: String?
    /// TLS: the CA that signed the broker's certificate (pinned: no system store), and
    /// this node's certificate and key.
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var keepalive: Int = 30
    /// 4 (MQTT 3.1.1, the default) or 5.
    public var protocolVersion: Int = 4
    /// Messages kept while disconnected (telemetry is dropped first, oldest first).
    public var offlineQueueLimit: Int = 500
    public var reconnectMinimum: Duration = .seconds(1)
    public var reconnectMaximum: Duration = .seconds(60)

    public init(broker: BrokerURL, clientID: String) {
        self.broker = broker
        self.clientID = clientID
    }
}

public struct MQTTError: Error, Equatable, Sendable, CustomStringConvertible {
    public var operation: String
    public var code: Int32
    public var message: String
    public var description: String { "MQTT \(operation): \(message)" }
}

/// What a message is, for the offline queue's dropping order.
public enum MQTTMessageKind: Sendable {
    case telemetry, event, status
}

/// A libmosquitto client driven by the agent's poll loop: the loop polls `socket`
/// (and for writing while `wantsWrite`), calls `readable()`/`writable()`, and `tick(now:)`
/// about once a second for keepalive and reconnects. No thread of its own.
public final class MQTTClient {
    public let settings: MQTTSettings
    public private(set) var connected = false
    public private(set) var droppedTelemetry = 0
    public private(set) var droppedEvents = 0
    public private(set) var connects = 0
    public var onConnect: () -> Void = {}
    /// Called once when an established connection is lost (not for failed attempts).
    public var onDisconnect: (String) -> Void = { _ in }
    public var onMessage: (String, [UInt8]) -> Void = { _, _ in }

    private let handle: OpaquePointer
    private let logger: Logger
    private var subscriptions: [String] = []
    /// QoS 1 messages sent and not yet acknowledged by the broker.
    public private(set) var unacknowledged: Set<Int32> = []
    private var queue: [(topic: String, payload: [UInt8], qos: Int32, retain: Bool, kind: MQTTMessageKind)] = []
    private var nextAttempt: Instant?
    private var backoff: Duration
    private var started = false
    private var rng = SystemRandomNumberGenerator()

    public static var libraryVersion: String {
        var buf = [CChar](repeating: 0, count: 32)
        nexus_mqtt_library_init(&buf, buf.count)
        return String(cBuffer: buf)
    }

    public init(settings: MQTTSettings, will: (topic: String, payload: [UInt8])?, logger: Logger) throws(MQTTError) {
        _ = Self.libraryVersion
        self.settings = settings
        self.logger = logger
        backoff = settings.reconnectMinimum
        var error: Int32 = 0
        guard let h = nexus_mqtt_new(settings.clientID, 1, &error) else {
            throw MQTTError(operation: "create client", code: error, message: Self.text(error))
        }
        handle = h
        try check(nexus_mqtt_set_protocol(h, Int32(settings.protocolVersion)), "set protocol version")
        if let u = settings.username {
            try check(nexus_mqtt_set_credentials(h, u, settings.password), "set credentials")
        }
        if let will {
            try check(will.payload.withUnsafeBytes { nexus_mqtt_set_will(h, will.topic, $0.baseAddress, $0.count, 1, 1) }, "set last will")
        }
        if settings.broker.tls {
            guard let ca = settings.caFile else {
                throw MQTTError(operation: "TLS", code: 0, message: "mqtts:// needs a CA file (the broker's CA is pinned)")
            }
            try check(nexus_mqtt_set_tls(h, ca, settings.certFile, settings.keyFile), "set up TLS (CA \(ca))")
        }
    }

    deinit { nexus_mqtt_destroy(handle) }

    private func check(_ rc: Int32, _ what: String) throws(MQTTError) {
        guard rc == 0 else { throw MQTTError(operation: what, code: rc, message: Self.text(rc)) }
    }

    static func text(_ rc: Int32) -> String {
        // MOSQ_ERR_ERRNO: the real reason is in errno.
        if rc == 14 { return String(cString: strerror(errno)) }
        return String(cString: nexus_mqtt_strerror(rc))
    }

    /// Starts connecting; failures are retried with backoff from `tick`.
    public func start(now: Instant) {
        started = true
        attempt(now: now)
    }

    private func attempt(now: Instant) {
        let rc = connects == 0 && nextAttempt == nil
            ? nexus_mqtt_connect(handle, settings.broker.host, Int32(settings.broker.port), Int32(settings.keepalive))
            : nexus_mqtt_reconnect(handle)
        if rc != 0 {
            connectFailed(rc)
            scheduleRetry(now: now)
        } else {
            nextAttempt = nil
        }
    }

    /// Exponential backoff with ±20 % jitter, so a fleet does not reconnect in step.
    private func scheduleRetry(now: Instant) {
        let jitter = Double.random(in: 0.8...1.2, using: &rng)
        nextAttempt = now + .milliseconds(Int64(Double(backoff.milliseconds) * jitter))
        backoff = min(backoff * 2, settings.reconnectMaximum)
    }

    public var socket: CInt { nexus_mqtt_socket(handle) }
    public var wantsWrite: Bool { nexus_mqtt_want_write(handle) != 0 }

    public func readable(now: Instant) {
        let rc = nexus_mqtt_loop_read(handle)
        drain(now: now)
        if rc != 0 { lost(now: now, rc) }
    }

    public func writable(now: Instant) {
        let rc = nexus_mqtt_loop_write(handle)
        drain(now: now)
        if rc != 0 { lost(now: now, rc) }
    }

    /// Keepalive pings and reconnect attempts; call about once a second.
    public func tick(now: Instant) {
        guard started else { return }
        if let due = nextAttempt {
            if now >= due { attempt(now: now) }
            return
        }
        let rc = nexus_mqtt_loop_misc(handle)
        drain(now: now)
        if rc != 0 && rc != 4 /* NO_CONN while connecting */ { lost(now: now, rc) }
    }

    private func connectFailed(_ rc: Int32) {
        let savedErrno = errno
        let broker = settings.broker.description, error = Self.text(rc), retry = "\(backoff.milliseconds)"
        // libmosquitto reports a refused handshake as MOSQ_ERR_ERRNO with EPROTO, as a TLS or
        // protocol error, or, when the broker hangs up first, as a lost connection.
        let handshake = (rc == 14 && savedErrno == EPROTO) || rc == 2 || rc == 7 || rc == 8
        if settings.broker.tls && handshake {
            logger.warning("MQTT connect failed", ["broker": broker, "error": error, "retry_ms": retry,
                                                   "hint": "TLS handshake or login refused: check the CA file, client certificate and key"])
        } else {
            logger.warning("MQTT connect failed", ["broker": broker, "error": error, "retry_ms": retry])
        }
    }

    private func lost(now: Instant, _ rc: Int32) {
        guard nextAttempt == nil else { return }
        if connected {
            connected = false
            logger.warning("MQTT connection lost", ["broker": settings.broker.description, "error": Self.text(rc)])
            onDisconnect(Self.text(rc))
        } else {
            // A TLS handshake or a refused CONNECT can fail here, after connect() returned;
            // whether it fails here or in connect() is timing, so both say the same thing.
            connectFailed(rc)
        }
        scheduleRetry(now: now)
    }

    private func drain(now: Instant) {
        var e = nexus_mqtt_event()
        while nexus_mqtt_next_event(handle, &e) == 1 {
            defer { nexus_mqtt_event_free(&e) }
            switch Int(e.type) {
            case Int(NEXUS_MQTT_EVENT_CONNECTED):
                if e.rc == 0 {
                    connected = true
                    connects += 1
                    backoff = settings.reconnectMinimum
                    logger.info("MQTT connected", ["broker": settings.broker.description, "client_id": settings.clientID])
                    for s in subscriptions { _ = rawSubscribe(s) }
                    onConnect()
                    flush()
                } else {
                    logger.error("MQTT broker refused the connection",
                                 ["broker": settings.broker.description, "reason": String(cString: nexus_mqtt_connack_string(e.rc))])
                    lost(now: now, e.rc)
                }
            case Int(NEXUS_MQTT_EVENT_DISCONNECTED):
                if connected || e.rc != 0 { lost(now: now, e.rc == 0 ? 7 : e.rc) }
                connected = false
                // A clean session does not resume them; nobody will acknowledge them now.
                unacknowledged.removeAll()
            case Int(NEXUS_MQTT_EVENT_PUBLISHED):
                unacknowledged.remove(e.mid)
            case Int(NEXUS_MQTT_EVENT_MESSAGE):
                let topic = e.topic.map { String(cString: $0) } ?? ""
                let payload = e.payload.map { Array(UnsafeBufferPointer(start: $0, count: e.length)) } ?? []
                onMessage(topic, payload)
            default:
                break
            }
        }
    }

    public func subscribe(_ pattern: String) {
        subscriptions.append(pattern)
        if connected { _ = rawSubscribe(pattern) }
    }

    private func rawSubscribe(_ pattern: String) -> Bool {
        var mid: Int32 = 0
        let rc = nexus_mqtt_subscribe(handle, pattern, 1, &mid)
        if rc != 0 { logger.warning("MQTT subscribe failed", ["topic": pattern, "error": Self.text(rc)]) }
        return rc == 0
    }

    /// Publishes now when connected; otherwise queues (status is not queued: a fresh one
    /// goes out on every connect).
    public func publish(_ topic: String, _ payload: [UInt8], qos: Int, retain: Bool, kind: MQTTMessageKind) {
        if connected, send(topic, payload, Int32(qos), retain) { return }
        guard kind != .status else { return }
        queue.append((topic, payload, Int32(qos), retain, kind))
        while queue.count > settings.offlineQueueLimit {
            if let i = queue.firstIndex(where: { $0.kind == .telemetry }) {
                queue.remove(at: i)
                droppedTelemetry += 1
            } else {
                queue.removeFirst()
                droppedEvents += 1
            }
        }
    }

    public var queuedCount: Int { queue.count }

    private func send(_ topic: String, _ payload: [UInt8], _ qos: Int32, _ retain: Bool) -> Bool {
        var mid: Int32 = 0
        let rc = payload.withUnsafeBytes { nexus_mqtt_publish(handle, topic, $0.baseAddress, $0.count, qos, retain ? 1 : 0, &mid) }
        if rc == 0 && qos > 0 { unacknowledged.insert(mid) }
        return rc == 0
    }

    /// Blocks until the broker has acknowledged every QoS 1 message sent so far, or
    /// `timeout`: before a power-off, so that `sleeping` is on the broker when the node
    /// goes. False if something is still unacknowledged (or the connection is gone).
    public func deliverPending(timeout: Duration, clock: any MonotonicClock) -> Bool {
        let deadline = clock.now + timeout
        while connected && !unacknowledged.isEmpty {
            let now = clock.now
            guard now < deadline else { break }
            var p = pollfd(fd: socket, events: Int16(POLLIN) | (wantsWrite ? Int16(POLLOUT) : 0), revents: 0)
            let left = deadline.since(now).milliseconds
            guard poll(&p, 1, Int32(clamping: min(left, 100))) >= 0 || errno == EINTR else { break }
            if p.revents & Int16(POLLOUT) != 0 { writable(now: clock.now) }
            if p.revents & Int16(POLLIN) != 0 { readable(now: clock.now) }
        }
        return unacknowledged.isEmpty
    }

    private func flush() {
        let pending = queue
        queue.removeAll()
        for m in pending where !send(m.topic, m.payload, m.qos, m.retain) {
            queue.append(m)
        }
        if !pending.isEmpty {
            logger.info("MQTT sent the offline queue", ["messages": "\(pending.count - queue.count)",
                                                        "dropped_telemetry": "\(droppedTelemetry)", "dropped_events": "\(droppedEvents)"])
        }
    }

    /// A clean disconnect (the broker then does not send the Last Will).
    public func disconnect() {
        guard connected else { return }
        _ = nexus_mqtt_disconnect(handle)
        _ = nexus_mqtt_loop_write(handle)
        connected = false
    }

    /// Lets pending writes go out before a disconnect.
    public func flushWrites() {
        var n = 0
        while wantsWrite && n < 50 {
            _ = nexus_mqtt_loop_write(handle)
            n += 1
        }
    }
}
