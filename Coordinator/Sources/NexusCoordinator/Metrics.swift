internal import Prometheus
internal import NexusFleet
internal import NexusPolicy

/// Prometheus exposition (swift-prometheus) of the fleet: per-node power, temperature,
/// utilisation, state and age, fleet totals, and the extender's own request counts.
/// Per-node gauges are set from a snapshot at scrape time, so a scrape shows the model
/// exactly as the extender sees it.
public final class CoordinatorMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let filterCalls: Counter
    private let prioritizeCalls: Counter
    private let badRequests: Counter
    static let states = ["awake", "draining", "sleeping", "waking", "fault", "offline", "unknown"]

    public init() {
        filterCalls = registry.makeCounter(name: "nexusgrid_extender_requests_total", labels: [("verb", "filter")],
                                           help: "Scheduler extender calls answered.")
        prioritizeCalls = registry.makeCounter(name: "nexusgrid_extender_requests_total", labels: [("verb", "prioritize")],
                                               help: "Scheduler extender calls answered.")
        badRequests = registry.makeCounter(name: "nexusgrid_extender_bad_requests_total",
                                           help: "Scheduler extender calls refused as malformed.")
    }

    func countFilter() { filterCalls.increment() }
    func countPrioritize() { prioritizeCalls.increment() }
    func countBadRequest() { badRequests.increment() }

    /// The exposition text. The fleet's gauges are written straight from the snapshot
    /// (not kept in the registry): a registry lookup per labelled gauge made a scrape
    /// quadratic in the fleet (half a second at 1,000 nodes, minutes at 10,000), and a node
    /// that left or lost a reading would have kept its last value. The registry keeps the
    /// counters only.
    public func render(_ s: FleetStore.Snapshot, nowMs: Int64, policy: PolicyRunner.Report? = nil) -> String {
        var out = ""
        out.reserveCapacity(256 + s.nodes.count * 900)
        let nodes = s.nodes.values.sorted { $0.name < $1.name }
        func family(_ name: String, _ help: String, _ samples: [(labels: [(String, String)], value: Double)]) {
            guard !samples.isEmpty else { return }
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for (labels, value) in samples {
                out += name
                if !labels.isEmpty {
                    out += "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
                }
                out += " " + Self.number(value) + "\n"
            }
        }
        func perNode(_ name: String, _ help: String, _ value: (NodeRecord) -> Double?) {
            family(name, help, nodes.compactMap { r in value(r).map { ([("node", r.name)], $0) } })
        }
        perNode("nexusgrid_node_power_watts", "Node input power, from its INA219s.") { $0.state == "offline" ? nil : $0.watts }
        perNode("nexusgrid_node_temperature_celsius", "The node's hottest sensor.") { $0.maxCelsius }
        perNode("nexusgrid_node_thermal_headroom_celsius", "Degrees left before throttling.") { $0.thermalHeadroom }
        perNode("nexusgrid_node_cpu_utilisation", "CPU utilisation, 0 to 1.") { $0.utilisation }
        perNode("nexusgrid_node_model_idle_watts", "Learned idle power.") { $0.energy?.idleWatts }
        perNode("nexusgrid_node_model_watts_per_load", "Learned watts per unit of utilisation.") { $0.energy?.wattsPerLoad }
        perNode("nexusgrid_node_last_seen_seconds", "Seconds since the node was last heard from.") { Double(nowMs - $0.lastSeenMs) / 1000 }
        family("nexusgrid_node_state", "1 for the node's current state.",
               nodes.flatMap { r in Self.states.map { ([("node", r.name), ("state", $0)], r.state == $0 ? 1.0 : 0.0) } })
        let fleetWatts = nodes.reduce(0.0) { $0 + ($1.state == "offline" ? 0 : $1.watts ?? 0) }
        family("nexusgrid_fleet_power_watts", "Sum of every reporting node's power.", [([], fleetWatts)])
        family("nexusgrid_fleet_nodes", "Nodes by state.",
               Self.states.map { st in ([("state", st)], Double(nodes.count { $0.state == st })) })
        family("nexusgrid_feed_connected", "1 while the coordinator is connected to the broker.", [([], s.feedConnected ? 1 : 0)])
        family("nexusgrid_feed_rejected_messages", "Feed messages that did not parse or lied about their node.",
               [([], Double(s.rejectedMessages))])
        family("nexusgrid_feed_messages", "Feed messages taken in since the start.", [([], Double(s.messages))])
        if let policy {
            family("nexusgrid_policy_decisions",
                   "Power-policy decisions since the coordinator started, by action (alert: a node could not be woken).",
                   ["sleep", "wake", "timeout", "aborted", "alert"].map { action in
                       ([("action", action)], Double(Decision.Action(rawValue: action).flatMap { policy.counts[$0] } ?? 0))
                   })
            family("nexusgrid_policy_in_flight", "Sleeps and wakes under way.", [([], Double(policy.inFlight.count))])
        }
        return out + registry.emitToString()
    }

    /// A label value in the exposition format: backslash, double quote and newline escaped.
    static func escape(_ v: String) -> String {
        guard v.utf8.contains(where: { $0 == 0x5C || $0 == 0x22 || $0 == 0x0A }) else { return v }
        var o = ""
        for c in v {
            switch c {
            case "\\": o += "\\\\"
            case "\"": o += "\\\""
            case "\n": o += "\\n"
            default: o.append(c)
            }
        }
        return o
    }

    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        return "\(v)"
    }
}
