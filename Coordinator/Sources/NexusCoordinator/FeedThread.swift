public import NexusMQTT
internal import NexusWire
public import NexusHardware
internal import Foundation

/// The feed's MQTT client on a thread of its own, driven by the same poll loop as the
/// agent's (libmosquitto's socket, a 1 s tick for keepalive and reconnects). It only
/// writes into the store; nothing waits for it.
public final class FeedThread: @unchecked Sendable { // started once; the client lives on its thread
    public let settings: MQTTSettings
    private let store: FleetStore
    private let logger: NexusHardware.Logger
    private var thread: Thread?

    public init(settings: MQTTSettings, store: FleetStore, logger: NexusHardware.Logger) {
        self.settings = settings
        self.store = store
        self.logger = logger
    }

    /// Fails at once for settings libmosquitto refuses; connection problems are retried.
    public func start() throws(MQTTError) {
        let client = try MQTTClient(settings: settings, will: nil, logger: logger)
        let store = self.store, logger = self.logger
        let box = UncheckedBox(client)
        let t = Thread {
            let client = box.value
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
            do {
                let tick = try loop.makeTimer { client.tick(now: clock.now) }
                tick.arm(after: .seconds(1), every: .seconds(1))
                client.start(now: clock.now)
                try loop.run()
            } catch {
                logger.error("feed loop stopped", ["error": "\(error)"])
            }
        }
        t.name = "nexus-feed"
        t.start()
        thread = t
    }
}

/// Hands a non-Sendable value to the one thread that will own it.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
