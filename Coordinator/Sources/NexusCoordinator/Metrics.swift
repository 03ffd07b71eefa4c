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

    public func render(_ s: FleetStore.Snapshot, nowMs: Int64, policy: PolicyRunner.Report? = nil) -> String {
        var fleetWatts = 0.0
        var byState: [String: Int] = [:]
        for r in s.nodes.values {
            let node = [("node", r.name)]
            byState[r.state, default: 0] += 1
            if let w = r.watts, r.state != "offline" {
                fleetWatts += w
                registry.makeGauge(name: "nexusgrid_node_power_watts", labels: node, help: "Node input power, from its INA219s.").set(w)
            }
            if let c = r.maxCelsius {
                registry.makeGauge(name: "nexusgrid_node_temperature_celsius", labels: node, help: "The node's hottest sensor.").set(c)
            }
            if let h = r.thermalHeadroom {
                registry.makeGauge(name: "nexusgrid_node_thermal_headroom_celsius", labels: node, help: "Degrees left before throttling.").set(h)
            }
            if let u = r.utilisation {
                registry.makeGauge(name: "nexusgrid_node_cpu_utilisation", labels: node, help: "CPU utilisation, 0 to 1.").set(u)
            }
            if let m = r.energy {
                registry.makeGauge(name: "nexusgrid_node_model_idle_watts", labels: node, help: "Learned idle power.").set(m.idleWatts)
                registry.makeGauge(name: "nexusgrid_node_model_watts_per_load", labels: node, help: "Learned watts per unit of utilisation.").set(m.wattsPerLoad)
            }
            registry.makeGauge(name: "nexusgrid_node_last_seen_seconds", labels: node, help: "Seconds since the node was last heard from.")
                .set(Double(nowMs - r.lastSeenMs) / 1000)
            for state in Self.states {
                registry.makeGauge(name: "nexusgrid_node_state", labels: node + [("state", state)], help: "1 for the node's current state.")
                    .set(r.state == state ? 1.0 : 0.0)
            }
        }
        registry.makeGauge(name: "nexusgrid_fleet_power_watts", help: "Sum of every reporting node's power.").set(fleetWatts)
        for state in Self.states {
            registry.makeGauge(name: "nexusgrid_fleet_nodes", labels: [("state", state)], help: "Nodes by state.")
                .set(Double(byState[state] ?? 0))
        }
        registry.makeGauge(name: "nexusgrid_feed_connected", help: "1 while the coordinator is connected to the broker.")
            .set(s.feedConnected ? 1.0 : 0.0)
        registry.makeGauge(name: "nexusgrid_feed_rejected_messages", help: "Feed messages that did not parse or lied about their node.")
            .set(Double(s.rejectedMessages))
        if let policy {
            for action in ["sleep", "wake", "timeout", "aborted", "alert"] {
                let n = Decision.Action(rawValue: action).flatMap { policy.counts[$0] } ?? 0
                registry.makeGauge(name: "nexusgrid_policy_decisions", labels: [("action", action)],
                                   help: "Power-policy decisions since the coordinator started, by action (alert: a node could not be woken).")
                    .set(Double(n))
            }
            registry.makeGauge(name: "nexusgrid_policy_in_flight", help: "Sleeps and wakes under way.").set(Double(policy.inFlight.count))
        }
        return registry.emitToString()
    }
}
