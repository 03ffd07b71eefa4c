public import NexusMQTT
internal import NexusWire
public import NexusHardware
internal import Foundation
internal import Synchronization

/// The feed's MQTT client on a thread of its own, driven by the same poll loop as the
/// agent's (libmosquitto's socket, a 1 s tick for keepalive and reconnects). It writes
/// into the store; other threads hand it commands to publish through an outbox and an
/// eventfd, so that nothing ever waits for the broker.
public final class FeedThread: Sendable {
    public let settings: MQTTSettings
    private let store: FleetStore
    private let logger: NexusHardware.Logger
    private let mailbox = Mutex(Mailbox())
    private let done = Mutex<Bool>(false)
    /// Makes the loop look at the mailbox; owned here, read by the loop's thread.
    private let notifier = UncheckedBox(EventNotifier())

    struct Mailbox {
        var outgoing: [(topic: String, payload: [UInt8])] = []
        var stopping = false
    }

    public init(settings: MQTTSettings, store: FleetStore, logger: NexusHardware.Logger) {
        self.settings = settings
        self.store = store
        self.logger = logger
    }

    /// Fails at once for settings libmosquitto refuses; connection problems are retried.
    public func start() throws(MQTTError) {
        let client = try MQTTClient(settings: settings, will: nil, logger: logger)
        let box = UncheckedBox(client)
        let t = Thread { [self] in
            self.run(box.value)
            self.done.withLock { $0 = true }
        }
        t.name = "nexus-feed"
        t.start()
    }

    /// Queues a message (a signed command) for the broker at QoS 1. Returns at once; the
    /// client delivers it when connected, as libmosquitto keeps QoS 1 messages until
    /// acknowledged.
    public func publish(_ topic: String, _ payload: [UInt8]) {
        mailbox.withLock { $0.outgoing.append((topic, payload)) }
        notifier.value.signal()
    }

    /// Asks the thread to disconnect cleanly (after handing queued commands to the
    /// broker, waiting 2 s at most) and waits up to `timeout` for it to finish.
    public func stop(timeout: Duration = .seconds(5)) {
        mailbox.withLock { $0.stopping = true }
        notifier.value.signal()
        let clock = SystemClock()
        let start = clock.now
        while !done.withLock({ $0 }), clock.now.since(start) < timeout {
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    private func run(_ client: MQTTClient) {
        let store = self.store, logger = self.logger
        let clock = SystemClock()
        let loop = EventLoop()
        for topic in FeedTopic.fleet { client.subscribe(topic) }
        client.onConnect = { store.setFeedConnected(true) }
        client.onDisconnect = { _ in store.setFeedConnected(false) }
        client.onMessage = { topic, payload in
            store.ingest(topic: topic, payload: payload, nowMs: SystemClock.wallMilliseconds)
        }
        loop.watchDynamic({ client.socket >= 0 ? (client.socket, client.wantsWrite) : nil },
                          readable: { client.readable(now: clock.now) },
                          writable: { client.writable(now: clock.now) })
        _ = loop.watch(notifier.value.fd) { [self] in
            notifier.value.drain()
            let (messages, stopping) = mailbox.withLock { m in
                defer { m.outgoing = [] }
                return (m.outgoing, m.stopping)
            }
            for m in messages { client.publish(m.topic, m.payload, qos: 1, retain: false, kind: .event) }
            if stopping {
                if client.connected, !client.deliverPending(timeout: .seconds(2), clock: clock) {
                    logger.warning("stopping before the broker acknowledged every command",
                                   ["unacknowledged": "\(client.unacknowledged.count)"])
                }
                client.disconnect()
                store.setFeedConnected(false)
                loop.stop()
            }
        }
        do {
            let tick = try loop.makeTimer { client.tick(now: clock.now) }
            tick.arm(after: .seconds(1), every: .seconds(1))
            client.start(now: clock.now)
            try loop.run()
            logger.info("feed stopped")
        } catch {
            logger.error("feed loop stopped", ["error": "\(error)"])
        }
    }
}

/// Hands a non-Sendable value to the one thread that will own it.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
