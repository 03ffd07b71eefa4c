public import NexusBoards
public import NexusHardware
public import NexusMQTT
public import NexusWire

/// The agent's side of the feed: retained status (with the Last Will as its offline
/// twin), telemetry at QoS 0 with a sequence number, events at QoS 1.
public final class FeedPublisher {
    public let client: MQTTClient
    public let node: String
    public let version: String
    public let board: Board
    public private(set) var state = "awake"
    private var telemetrySeq: Int64 = 0
    private var eventSeq: Int64 = 0
    private let macs: [String]
    private let logger: Logger
    /// How this node is woken, and whom it wakes (status).
    public var wake = NodeWake()
    public var wakeTargets: [String: String] = [:] // target → method
    public private(set) var wolArmed: Bool?
    public private(set) var warnings: [String] = []
    /// Home Assistant discovery prefix, when discovery is on.
    public var homeAssistantPrefix: String?
    private var discoveredTemperatures: [String] = []
    /// Energy since the agent started, integrated from total power between samples.
    public private(set) var energyKWh: Double = 0
    private var lastPowerSample: (at: Instant, watts: Double)?

    public static func will(node: String, version: String, board: Board) -> (topic: String, payload: [UInt8]) {
        (FeedTopic.status(node), Array(StatusPayload.lastWill(node: node, version: version, board: board.name).serialized().utf8))
    }

    public init(client: MQTTClient, node: String, version: String, board: Board, logger: Logger,
                macs: [String] = NetworkInterfaces.macAddresses()) {
        self.client = client
        self.node = node
        self.version = version
        self.board = board
        self.macs = macs
        self.logger = logger
        client.onConnect = { [unowned self] in
            self.publishStatus()
            self.publishDiscovery()
        }
        client.onDisconnect = { [unowned self] reason in
            // Queued while the broker is away and delivered after reconnection, so the
            // gap shows in the event history.
            self.event("mqtt-disconnected", [.init("reason", reason)])
        }
    }

    public func start(now: Instant) {
        client.start(now: now)
    }

    public func setState(_ s: String) {
        guard s != state else { return }
        state = s
        publishStatus()
    }

    /// Wake-on-LAN arming and warnings changed: republish the status if they differ.
    public func setWakeState(armed: Bool?, warnings: [String]) {
        guard armed != wolArmed || warnings != self.warnings else { return }
        wolArmed = armed
        self.warnings = warnings
        publishStatus()
    }

    func statusPayload(online: Bool) -> StatusPayload {
        var p = StatusPayload(node: node, online: online, state: online || state == "sleeping" ? state : "offline", version: version, board: board.name,
                              sensors: board.sensors.map(\.name), relays: board.relays.map(\.settings.name),
                              leds: board.leds.map(\.name), wake: board.power.wake.map(\.rawValue), macs: macs,
                              timestampMs: SystemClock.wallMilliseconds)
        p.wakeMethod = wake.method.rawValue
        p.wakeInterface = wake.interface
        p.wakeVia = wake.via
        p.wolArmed = wolArmed
        p.wakes = wakeTargets.keys.sorted()
        p.wakeMethods = wakeTargets
        p.warnings = warnings
        return p
    }

    public func publishStatus() {
        client.publish(FeedTopic.status(node), Array(statusPayload(online: true).json.serialized().utf8),
                       qos: 1, retain: true, kind: .status)
    }

    public func telemetry(_ s: Sample, now: Instant) {
        telemetrySeq += 1
        if let w = s.totalWatts {
            // Trapezoids between samples; a gap without power readings adds nothing.
            if let last = lastPowerSample { energyKWh += (last.watts + w) / 2 * now.since(last.at).seconds / 3_600_000 }
            lastPowerSample = (now, w)
        }
        let temps = s.temperatures.map { "\($0.chip) \($0.label)" }
        if homeAssistantPrefix != nil, temps != discoveredTemperatures, client.connected {
            discoveredTemperatures = temps
            publishDiscovery()
        }
        guard case .object(let fields) = s.json else { return }
        let payload = JSONValue.object([("seq", .int(telemetrySeq))] + fields + [
            ("energy_kwh", .number(energyKWh, places: 9)),
            ("mqtt", .object([("dropped_telemetry", .int(Int64(client.droppedTelemetry))),
                              ("dropped_events", .int(Int64(client.droppedEvents)))])),
        ])
        client.publish(FeedTopic.telemetry(node), Array(payload.serialized().utf8), qos: 0, retain: false, kind: .telemetry)
    }

    public func event(_ type: String, _ fields: [EventPayload.EventField]) {
        eventSeq += 1
        let e = EventPayload(node: node, seq: eventSeq, timestampMs: SystemClock.wallMilliseconds, type: type, fields: fields)
        client.publish(FeedTopic.event(node), Array(e.json.serialized().utf8), qos: 1, retain: false, kind: .event)
    }

    /// Retained discovery configs for Home Assistant (when enabled).
    public func publishDiscovery() {
        guard let prefix = homeAssistantPrefix else { return }
        let entities = HomeAssistantDiscovery.entities(
            node: node, meters: board.sensors.map { ($0.name, $0.label) },
            temperatures: discoveredTemperatures.enumerated().map { ($0.offset, $0.element) })
        for e in entities {
            let config = HomeAssistantDiscovery.config(e, node: node, model: board.model, version: version)
            client.publish(HomeAssistantDiscovery.topic(prefix: prefix, node: node, objectID: e.objectID),
                           Array(config.serialized().utf8), qos: 1, retain: true, kind: .status)
        }
    }

    /// On a clean exit: the retained status says offline (as the Last Will would), or
    /// still `sleeping` when the exit is the node powering off on purpose, so that a
    /// coordinator (even one started later) knows it is asleep rather than lost; then a
    /// clean disconnect.
    public func goodbye() {
        guard client.connected else { return }
        client.publish(FeedTopic.status(node), Array(statusPayload(online: false).json.serialized().utf8),
                       qos: 1, retain: true, kind: .status)
        client.flushWrites()
        client.disconnect()
    }
}
