public import NexusFleet

/// The power policy's settings. Defaults follow cluster-autoscaler's trusted ones where
/// it has one: a node must be underused for 10 minutes before it may go, not within 10
/// minutes of a scale-up, and 0.5 utilisation is the line.
public struct PolicySettings: Equatable, Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Decide nothing.
        case off
        /// Decide and record, act on nothing.
        case dryRun = "dry-run"
        /// Decide, record, act.
        case on
    }
    public var mode: Mode = .off
    /// Never fewer awake nodes than this.
    public var minAwake = 2
    /// Sleep one node when the awake nodes' mean utilisation stays below this...
    public var sleepBelow = 0.5
    /// ...for this long (ms).
    public var sleepHoldMs: Int64 = 10 * 60_000
    /// Wake one node when it stays above this, or pods are pending,...
    public var wakeAbove = 0.8
    /// ...for this long (ms).
    public var wakeHoldMs: Int64 = 60_000
    /// No sleep for a node within this long of being woken (ms).
    public var cooldownAfterWakeMs: Int64 = 10 * 60_000
    /// A node whose telemetry is older than this is stale; with any stale node the
    /// policy decides nothing.
    public var staleMs: Int64 = 20_000
    /// A transition not finished within this long is reported, and a wake tries the
    /// fallback (ms).
    public var transitionTimeoutMs: Int64 = 5 * 60_000
    /// Nodes never put to sleep: control-plane and etcd members, nodes that opted out.
    public var protected: Set<String> = []
    /// A node busier than this is not idle and is not a sleep candidate.
    public var idleBelow = 0.15

    public init() {}
}

/// One thing the policy decided, with its reason. Recorded whether or not it is acted on.
public struct Decision: Equatable, Sendable {
    public enum Action: String, Sendable {
        case sleep, wake, timeout
    }
    public var atMs: Int64
    public var node: String
    public var action: Action
    public var reason: String
    public var acted: Bool

    public init(atMs: Int64, node: String, action: Action, reason: String, acted: Bool) {
        self.atMs = atMs
        self.node = node
        self.action = action
        self.reason = reason
        self.acted = acted
    }
}

/// The power policy's memory: when the fleet went under or over the line, what is in
/// flight, who was woken when. `evaluate` is called every few seconds with the fleet.
public struct PowerPolicy: Sendable {
    public var settings: PolicySettings
    public private(set) var underSinceMs: Int64?
    public private(set) var overSinceMs: Int64?
    /// node → (action, since): at most one transition per node, and (more cautious still)
    /// one in the whole fleet at a time.
    public private(set) var inFlight: [String: (action: Decision.Action, sinceMs: Int64)] = [:]
    public private(set) var lastWokenMs: [String: Int64] = [:]

    public init(settings: PolicySettings) { self.settings = settings }

    /// Why the policy will not act now, if it will not (for the log and /v1/decisions).
    public private(set) var holding: String?

    public mutating func evaluate(_ nodes: [String: NodeRecord], nowMs: Int64, feedFresh: Bool,
                                  pendingPods: Int = 0) -> [Decision] {
        holding = nil
        guard settings.mode != .off else { holding = "policy is off"; return [] }
        var out = finishTransitions(nodes, nowMs: nowMs)
        guard feedFresh else { holding = "the feed is down: no decision on stale data"; return out }
        let awake = nodes.values.filter { $0.state == "awake" }
        if let stale = awake.first(where: { nowMs - $0.lastSeenMs > settings.staleMs }) {
            holding = "\(stale.name) is stale: no decision on stale data"
            return out
        }
        guard inFlight.isEmpty else {
            holding = "waiting for \(inFlight.keys.sorted().joined(separator: ", ")) to finish"
            return out
        }
        let loads = awake.compactMap(\.utilisation)
        let mean = loads.isEmpty ? 0 : loads.reduce(0, +) / Double(loads.count)
        let acted = settings.mode == .on

        // Wake first: waiting pods matter more than saved watts.
        if pendingPods > 0 || mean > settings.wakeAbove {
            underSinceMs = nil
            let since = overSinceMs ?? nowMs
            overSinceMs = since
            let why = pendingPods > 0 ? "\(pendingPods) pods pending" : "mean utilisation \(pct(mean)) above \(pct(settings.wakeAbove))"
            guard nowMs - since >= settings.wakeHoldMs else {
                holding = "\(why) for \((nowMs - since) / 1000) s of \(settings.wakeHoldMs / 1000) s"
                return out
            }
            // The most efficient sleeper with a way to wake it.
            let sleepers = nodes.values.filter { $0.state == "sleeping" && $0.wakeMethod != "none" }
            guard let pick = sleepers.min(by: { efficiency($0) < efficiency($1) || (efficiency($0) == efficiency($1) && $0.name < $1.name) }) else {
                holding = "\(why), but no sleeping node can be woken"
                return out
            }
            inFlight[pick.name] = (.wake, nowMs)
            lastWokenMs[pick.name] = nowMs
            overSinceMs = nil
            out.append(Decision(atMs: nowMs, node: pick.name, action: .wake,
                                reason: "\(why) for \(settings.wakeHoldMs / 1000) s; \(pick.name) is the most efficient sleeping node "
                                    + "(\(watts(efficiency(pick))) W per unit of load), woken by \(pick.wakeMethod)",
                                acted: acted))
            return out
        }
        overSinceMs = nil

        guard mean < settings.sleepBelow else { underSinceMs = nil; holding = "utilisation \(pct(mean)) is not low"; return out }
        guard awake.count > settings.minAwake else {
            underSinceMs = nil
            holding = "\(awake.count) awake nodes, the minimum is \(settings.minAwake)"
            return out
        }
        let since = underSinceMs ?? nowMs
        underSinceMs = since
        guard nowMs - since >= settings.sleepHoldMs else {
            holding = "utilisation \(pct(mean)) below \(pct(settings.sleepBelow)) for \((nowMs - since) / 1000) s of \(settings.sleepHoldMs / 1000) s"
            return out
        }
        let candidates = awake.filter { r in
            !settings.protected.contains(r.name) && r.wakeMethod != "none" && (r.utilisation ?? 1) < settings.idleBelow
                && nowMs - (lastWokenMs[r.name] ?? .min / 2) >= settings.cooldownAfterWakeMs
        }
        // The least efficient idle node goes first: it costs the most to keep awake.
        guard let pick = candidates.max(by: { idleCost($0) < idleCost($1) || (idleCost($0) == idleCost($1) && $0.name > $1.name) }) else {
            holding = "no idle node may sleep (protected, no wake method, busy, or recently woken)"
            return out
        }
        // What the rest would carry: must stay under the wake line, or it would flap.
        let remaining = awake.count - 1
        let projected = loads.reduce(0, +) / Double(max(remaining, 1))
        guard projected < settings.wakeAbove else {
            holding = "without \(pick.name) utilisation would be \(pct(projected)), above the wake line"
            return out
        }
        inFlight[pick.name] = (.sleep, nowMs)
        underSinceMs = nil
        out.append(Decision(atMs: nowMs, node: pick.name, action: .sleep,
                            reason: "mean utilisation \(pct(mean)) below \(pct(settings.sleepBelow)) for \(settings.sleepHoldMs / 1000) s; "
                                + "\(pick.name) is the least efficient idle node (\(watts(idleCost(pick))) W idle); "
                                + "\(remaining) stay awake at \(pct(projected))",
                            acted: acted))
        return out
    }

    /// Transitions that finished leave the in-flight set; ones past the timeout are reported.
    mutating func finishTransitions(_ nodes: [String: NodeRecord], nowMs: Int64) -> [Decision] {
        var out: [Decision] = []
        for (name, t) in inFlight.sorted(by: { $0.key < $1.key }) {
            let state = nodes[name]?.state
            let done = t.action == .sleep ? (state == "sleeping" || state == "offline") : state == "awake"
            if done {
                inFlight[name] = nil
            } else if nowMs - t.sinceMs >= settings.transitionTimeoutMs {
                inFlight[name] = nil
                out.append(Decision(atMs: nowMs, node: name, action: .timeout,
                                    reason: "\(t.action.rawValue) not finished after \(settings.transitionTimeoutMs / 1000) s (state \(state ?? "unknown"))",
                                    acted: settings.mode == .on))
            }
        }
        return out
    }

    func efficiency(_ r: NodeRecord) -> Double { r.energy?.wattsPerLoad ?? .infinity }
    func idleCost(_ r: NodeRecord) -> Double { r.energy?.idleWatts ?? r.watts ?? 0 }
    func pct(_ v: Double) -> String { "\(Int((v * 100).rounded())) %" }
    func watts(_ v: Double) -> String { v.isFinite ? "\((v * 10).rounded() / 10)" : "?" }
}
