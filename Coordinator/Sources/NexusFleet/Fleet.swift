internal import NexusWire
internal import NexusBoards

/// One node as the coordinator knows it, from its last status and telemetry.
public struct NodeRecord: Equatable, Sendable {
    public var name: String
    public var online = false
    /// awake, draining, sleeping, fault, offline; `waking` is set by the coordinator.
    public var state = "unknown"
    public var board = ""
    public var version = ""
    public var wakeMethod = "none"
    public var wakeVia: String?
    public var wolArmed: Bool?
    /// Nodes this node's agent can wake, and how (target → method; "" when an older
    /// agent did not say).
    public var wakes: [String: String] = [:]
    public var warnings: [String] = []
    public var faults: [String] = []
    /// Latest telemetry.
    public var watts: Double?
    public var maxCelsius: Double?
    public var utilisation: Double?
    public var load1: Double?
    public var memoryUsed: Double?
    public var energyKWh: Double?
    public var telemetrySeq: Int64?
    /// When anything was last heard from the node (coordinator's clock, ms).
    public var lastSeenMs: Int64 = 0
    /// Board figures, when the board is a known one.
    public var throttleCelsius: Double?
    public var haltedWatts: Double?
    /// Work at full load relative to a Pi 4B (the board file's power.capacity).
    public var capacity: Double = 1
    public var energy: EnergyModel?

    public init(name: String) { self.name = name }

    /// Watts per unit of work (a Pi 4B at full load is 1): what waking or loading this
    /// node costs, comparable across boards of different speeds.
    public var wattsPerWork: Double? {
        energy.map { $0.wattsPerLoad / max(capacity, 0.01) }
    }

    /// Degrees left before the SoC throttles.
    public var thermalHeadroom: Double? {
        guard let t = maxCelsius, let limit = throttleCelsius else { return nil }
        return limit - t
    }
}

/// One event from an agent (docs/feed.md), as the coordinator keeps it: commands'
/// answers, relay changes, wakes, button presses.
public struct FleetEvent: Equatable, Sendable {
    public var atMs: Int64
    public var node: String
    public var type: String
    /// The command's id, for command-accepted, -rejected and -result.
    public var id: String?
    /// A short account of the other fields, for people (`verb=relay outcome=ok`).
    public var summary: String
    /// command-result: ok or failed; command-rejected: the reason.
    public var outcome: String?

    public init(atMs: Int64, node: String, type: String, id: String? = nil, summary: String, outcome: String? = nil) {
        self.atMs = atMs
        self.node = node
        self.type = type
        self.id = id
        self.summary = summary
        self.outcome = outcome
    }
}

/// The live model of the fleet. Values only: the service keeps one behind a lock and
/// hands snapshots to the HTTP handlers, which never wait for the feed.
public struct Fleet: Sendable {
    public private(set) var nodes: [String: NodeRecord] = [:]
    /// Messages that were not understood, counted (the feed is untrusted input).
    public private(set) var rejected = 0
    public private(set) var lastRejection: String?
    /// The fleet's latest events, oldest first.
    public private(set) var events: [FleetEvent] = []
    public static let keptEvents = 500

    public init() {}

    /// One message from the feed. `nowMs` is the coordinator's clock: staleness never
    /// depends on the node's.
    public mutating func ingest(topic: String, payload: [UInt8], nowMs: Int64) {
        guard let (node, kind) = FeedTopic.parse(topic) else { return }
        let json: JSONValue
        do { json = try JSONParser.parse(payload, maxBytes: 256 * 1024) } catch {
            reject("\(topic): \(error)")
            return
        }
        guard case .object = json, json["node"]?.stringValue == node else {
            reject("\(topic): not an object for node \(node)")
            return
        }
        var r = nodes[node] ?? NodeRecord(name: node)
        switch kind {
        case .status: applyStatus(json, to: &r)
        case .telemetry: applyTelemetry(json, to: &r)
        case .event: keepEvent(json, node: node, nowMs: nowMs)
        }
        r.lastSeenMs = nowMs
        nodes[node] = r
    }

    private mutating func keepEvent(_ e: JSONValue, node: String, nowMs: Int64) {
        guard let type = e["type"]?.stringValue, !type.isEmpty else { return reject("event from \(node) without a type") }
        let skip: Set<String> = ["schema", "node", "seq", "timestamp_ms", "type", "id"]
        guard case .object(let members) = e else { return }
        let fields: [String] = members.compactMap { k, v in
            guard !skip.contains(k) else { return nil }
            return "\(k)=" + (v.stringValue ?? v.serialized())
        }
        let outcome = type == "command-rejected" ? e["reason"]?.stringValue : e["outcome"]?.stringValue
        events.append(FleetEvent(atMs: nowMs, node: node, type: type, id: e["id"]?.stringValue,
                                 summary: String(fields.joined(separator: " ").prefix(300)), outcome: outcome))
        if events.count > Self.keptEvents { events.removeFirst(events.count - Self.keptEvents) }
    }

    private mutating func reject(_ why: String) {
        rejected += 1
        lastRejection = why
    }

    private func applyStatus(_ s: JSONValue, to r: inout NodeRecord) {
        r.online = s["online"]?.boolValue ?? false
        let state = s["state"]?.stringValue ?? r.state
        // A node that went to sleep and then dropped off the broker (its Last Will) is
        // still asleep, not lost: it is a node to wake, not a fault.
        r.state = state == "offline" && r.state == "sleeping" ? "sleeping" : state
        r.version = s["version"]?.stringValue ?? r.version
        if let board = s["board"]?.stringValue, board != r.board {
            r.board = board
            if let b = try? BoardCatalog.load(board) {
                r.throttleCelsius = b.power.throttleCelsius
                r.haltedWatts = b.power.haltedWatts
                r.capacity = b.power.capacity
                r.energy = EnergyModel(priorIdleWatts: b.power.idleWatts, priorMaxWatts: b.power.maxWatts)
            }
        }
        if let w = s["wake"] {
            r.wakeMethod = w["method"]?.stringValue ?? "none"
            r.wakeVia = w["via"]?.stringValue
            r.wolArmed = w["armed"]?.boolValue
        }
        if let names = s["capabilities"]?["wakes"]?.arrayValue?.compactMap(\.stringValue) {
            let methods = s["capabilities"]?["wake_methods"]
            r.wakes = Dictionary(names.map { ($0, methods?[$0]?.stringValue ?? "") }, uniquingKeysWith: { a, _ in a })
        }
        r.warnings = s["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    private func applyTelemetry(_ t: JSONValue, to r: inout NodeRecord) {
        if let seq = t["seq"]?.intValue, let last = r.telemetrySeq, seq <= last, seq > 1 {
            return // a duplicate or out-of-order sample (QoS 0 can reorder across reconnects)
        }
        r.telemetrySeq = t["seq"]?.intValue
        r.watts = t["total_power_w"]?.doubleValue
        r.utilisation = t["cpu"]?["utilisation"]?.doubleValue
        r.load1 = t["load"]?["1m"]?.doubleValue
        r.memoryUsed = t["memory"]?["used_fraction"]?.doubleValue
        r.energyKWh = t["energy_kwh"]?.doubleValue
        r.maxCelsius = t["temperatures"]?.arrayValue?.compactMap { $0["celsius"]?.doubleValue }.max()
        r.faults = t["faults"]?.arrayValue?.compactMap(\.stringValue) ?? []
        // An awake node's samples teach its energy model; a draining one's load is leaving.
        if r.state == "awake", let w = r.watts, let u = r.utilisation {
            r.energy?.learn(watts: w, utilisation: u)
        }
    }

    /// Nodes from the database at start: what was known before a restart. Their feed
    /// data is old, so the staleness rules hold until they speak again.
    public mutating func restore(_ records: [NodeRecord]) {
        for r in records where nodes[r.name] == nil { nodes[r.name] = r }
    }

}
