/// The feed's topics: a versioned root per node (docs/feed.md).
public enum FeedTopic {
    public static let prefix = "nexusgrid/v1"

    public static func status(_ node: String) -> String { "\(prefix)/\(node)/status" }
    public static func telemetry(_ node: String) -> String { "\(prefix)/\(node)/telemetry" }
    public static func event(_ node: String) -> String { "\(prefix)/\(node)/event" }
    public static func command(_ node: String, _ verb: String) -> String { "\(prefix)/\(node)/cmd/\(verb)" }
    /// What an agent subscribes to.
    public static func commands(_ node: String) -> String { "\(prefix)/\(node)/cmd/+" }
    /// What the coordinator subscribes to: every node's status, telemetry and events.
    public static let fleet = ["\(prefix)/+/status", "\(prefix)/+/telemetry", "\(prefix)/+/event"]

    public enum Kind: String, Sendable { case status, telemetry, event }

    /// The node and kind of a feed topic; nil for anything else (commands included).
    public static func parse(_ topic: String) -> (node: String, kind: Kind)? {
        let parts = topic.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4, "\(parts[0])/\(parts[1])" == prefix, !parts[2].isEmpty,
              let kind = Kind(rawValue: String(parts[3])) else { return nil }
        return (String(parts[2]), kind)
    }
}

/// The retained `status` message. The Last Will is the same shape with online false.
public struct StatusPayload: Equatable, Sendable {
    public var node: String
    public var online: Bool
    /// awake, draining, sleeping, waking, fault; "offline" in the Last Will.
    public var state: String
    public var version: String
    public var board: String
    public var sensors: [String]
    public var relays: [String]
    public var leds: [String]
    public var wake: [String]
    public var macs: [String]
    public var timestampMs: Int64
    /// How this node is woken: wol, poe-relay, gpio-pulse or none.
    public var wakeMethod = "none"
    /// wol: the interface that must stay armed; poe-relay and gpio-pulse: the neighbour.
    public var wakeInterface: String?
    public var wakeVia: String?
    /// wol: whether the NIC has magic-packet wake armed (ETHTOOL_GWOL); nil when unknown.
    public var wolArmed: Bool?
    /// Nodes this agent can wake on a `wake` command.
    public var wakes: [String] = []
    /// How it wakes each of them (target → wol, poe-relay or gpio-pulse): what a
    /// coordinator needs to choose a fallback when the first way does not work.
    public var wakeMethods: [String: String] = [:]
    /// Conditions an operator should fix, such as Wake-on-LAN disarmed.
    public var warnings: [String] = []

    public init(node: String, online: Bool, state: String, version: String, board: String, sensors: [String] = [],
                relays: [String] = [], leds: [String] = [], wake: [String] = [], macs: [String] = [], timestampMs: Int64) {
        self.node = node
        self.online = online
        self.state = state
        self.version = version
        self.board = board
        self.sensors = sensors
        self.relays = relays
        self.leds = leds
        self.wake = wake
        self.macs = macs
        self.timestampMs = timestampMs
    }

    public var json: JSONValue {
        .object([
            ("schema", .int(1)),
            ("node", .string(node)),
            ("online", .bool(online)),
            ("state", .string(state)),
            ("version", .string(version)),
            ("board", .string(board)),
            ("capabilities", .object([
                ("sensors", .array(sensors.map { .string($0) })),
                ("relays", .array(relays.map { .string($0) })),
                ("leds", .array(leds.map { .string($0) })),
                ("wake", .array(wake.map { .string($0) })),
                ("macs", .array(macs.map { .string($0) })),
                ("wakes", .array(wakes.map { .string($0) })),
                ("wake_methods", .object(wakeMethods.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ])),
            ("wake", .object([("method", .string(wakeMethod))]
                + (wakeInterface.map { [("interface", .string($0)), ("armed", wolArmed.map { .bool($0) } ?? .null)] } ?? [])
                + (wakeVia.map { [("via", .string($0))] } ?? []))),
            ("warnings", .array(warnings.map { .string($0) })),
            ("timestamp_ms", .int(timestampMs)),
        ])
    }

    /// The Last Will: fixed when connecting, so it carries no timestamp.
    public static func lastWill(node: String, version: String, board: String) -> JSONValue {
        .object([("schema", .int(1)), ("node", .string(node)), ("online", .bool(false)), ("state", .string("offline")),
                 ("version", .string(version)), ("board", .string(board))])
    }
}

/// One `event` message (QoS 1): what happened, with its own fields.
public struct EventPayload: Equatable, Sendable {
    public var node: String
    public var seq: Int64
    public var timestampMs: Int64
    /// button, fault, fault-cleared, relay, power-off, mqtt-disconnected, command, ...
    public var type: String
    public var fields: [EventField]

    public struct EventField: Equatable, Sendable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    public init(node: String, seq: Int64, timestampMs: Int64, type: String, fields: [EventField]) {
        self.node = node
        self.seq = seq
        self.timestampMs = timestampMs
        self.type = type
        self.fields = fields
    }

    public var json: JSONValue {
        .object([("schema", .int(1)), ("node", .string(node)), ("seq", .int(seq)), ("timestamp_ms", .int(timestampMs)),
                 ("type", .string(type))] + fields.map { ($0.key, .string($0.value)) })
    }
}
