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
    /// A sleep not finished within this long is reported (ms).
    public var transitionTimeoutMs: Int64 = 5 * 60_000
    /// A woken node not awake within this long is tried the next way (ms): a Pi boots
    /// in under a minute, a workstation in two.
    public var wakeAttemptTimeoutMs: Int64 = 3 * 60_000
    /// A node that could not be woken any way is left out of wake picks this long (ms),
    /// so that the policy wakes another instead of retrying a dead one.
    public var unwakeableForMs: Int64 = 60 * 60_000
    /// Nodes never put to sleep: control-plane and etcd members, nodes that opted out.
    public var protected: Set<String> = []
    /// A node busier than this is not idle and is not a sleep candidate.
    public var idleBelow = 0.15
    /// How nodes are chosen. `energy`: the learned power models (sleep the node that costs
    /// most to keep awake, wake the cheapest per unit of work). `utilisation`: as
    /// cluster-autoscaler does without any power model (sleep the least used node below
    /// `sleepBelow`, wake sleepers in name order); kept for the fleet simulator's comparison.
    public enum Ranking: String, Sendable { case energy, utilisation }
    public var ranking = Ranking.energy
    /// Nodes that may be booting at once for pods that cannot be placed (one more per
    /// round while pods still wait).
    public var maxConcurrentWakes = 3

    public init() {}
}

/// One thing the policy decided, with its reason. Recorded whether or not it is acted on.
public struct Decision: Equatable, Sendable {
    public enum Action: String, Sendable {
        /// Put `node` to sleep.
        case sleep
        /// Wake `node` by `method`, through the agent on `via`.
        case wake
        /// A sleep that did not finish in time.
        case timeout
        /// A sleep given up before the node was touched (a pod that cannot move, a PDB, an
        /// API error); the node stays in service.
        case aborted
        /// Every way to wake `node` failed: a person should look.
        case alert
    }
    public var atMs: Int64
    public var node: String
    public var action: Action
    public var reason: String
    public var acted: Bool
    /// wake: the agent that wakes the node, and how.
    public var via: String?
    public var method: String?

    public init(atMs: Int64, node: String, action: Action, reason: String, acted: Bool, via: String? = nil, method: String? = nil) {
        self.atMs = atMs
        self.node = node
        self.action = action
        self.reason = reason
        self.acted = acted
        self.via = via
        self.method = method
    }
}

/// One way to wake a node: the agent that does it and its method.
public struct WakeRoute: Equatable, Sendable, CustomStringConvertible {
    public var via: String
    public var method: String
    public init(via: String, method: String) {
        self.via = via
        self.method = method
    }
    public var description: String { "\(method.isEmpty ? "wake" : method) via \(via)" }

    /// Every way to wake `r` now, best first: the node's own method through its declared
    /// neighbour, then any awake agent that lists it, Wake-on-LAN before a GPIO pulse
    /// before a PoE power cycle (the cut is the most disruptive, so it comes last).
    public static func routes(for r: NodeRecord, in nodes: [String: NodeRecord]) -> [WakeRoute] {
        ranked(nodes.values
            .filter { $0.name != r.name && $0.state == "awake" && $0.online }
            .compactMap { n in n.wakes[r.name].map { WakeRoute(via: n.name, method: $0) } }, for: r)
    }

    /// `routes(for:in:)` for every node at once, in one pass over the fleet (asking node by
    /// node is quadratic: 18 s for the API's node list at 10,000 nodes).
    public static func allRoutes(in nodes: [String: NodeRecord]) -> [String: [WakeRoute]] {
        var out: [String: [WakeRoute]] = [:]
        for n in nodes.values where n.state == "awake" && n.online {
            for (target, method) in n.wakes where target != n.name {
                out[target, default: []].append(WakeRoute(via: n.name, method: method))
            }
        }
        for (target, list) in out {
            guard let r = nodes[target] else { out[target] = nil; continue }
            out[target] = ranked(list, for: r)
        }
        return out
    }

    static func ranked(_ routes: [WakeRoute], for r: NodeRecord) -> [WakeRoute] {
        func rank(_ w: WakeRoute) -> Int {
            if w.method == r.wakeMethod && (r.wakeVia == nil || r.wakeVia == w.via) { return 0 }
            switch w.method {
            case "wol": return 1
            case "gpio-pulse": return 2
            case "poe-relay": return 3
            default: return 4
            }
        }
        return routes.sorted { (rank($0), $0.via) < (rank($1), $1.via) }
    }
}

/// What the Kubernetes API adds to the feed's picture (empty without a cluster).
public struct ClusterFacts: Equatable, Sendable {
    /// Pods the scheduler could not place (PodScheduled false, reason Unschedulable).
    public var pendingPods: Int
    /// node → why it must stay awake: control-plane or etcd member, opted out.
    public var protected: [String: String]
    public init(pendingPods: Int = 0, protected: [String: String] = [:]) {
        self.pendingPods = pendingPods
        self.protected = protected
    }
}

/// The power policy's memory: when the fleet went under or over the line, what is in
/// flight, who was woken when. `evaluate` is called every few seconds with the fleet.
public struct PowerPolicy: Sendable {
    public struct Transition: Equatable, Sendable {
        public var action: Decision.Action
        public var sinceMs: Int64
        /// wake: the ways tried so far, and when the current one started.
        public var tried: [WakeRoute] = []
        public var attemptSinceMs: Int64
        /// An operator asked for it: carried out (fallbacks too) whatever the mode.
        public var byOperator = false
    }

    public var settings: PolicySettings
    public private(set) var underSinceMs: Int64?
    public private(set) var overSinceMs: Int64?
    /// At most one transition per node, and (more cautious still) one in the whole
    /// fleet at a time.
    public private(set) var inFlight: [String: Transition] = [:]
    public private(set) var lastWokenMs: [String: Int64] = [:]
    /// node → until when it is not picked (a sleep was aborted, or it could not be woken).
    public private(set) var benchedUntilMs: [String: Int64] = [:]

    public init(settings: PolicySettings) { self.settings = settings }

    /// Why the policy will not act now, if it will not (for the log and /v1/decisions).
    public private(set) var holding: String?

    var acts: Bool { settings.mode == .on }

    public mutating func evaluate(_ nodes: [String: NodeRecord], nowMs: Int64, feedFresh: Bool,
                                  cluster: ClusterFacts = ClusterFacts()) -> [Decision] {
        holding = nil
        // An operator's sleep or wake is followed to its end with the policy off too.
        guard settings.mode != .off else { holding = "policy is off"; return finishTransitions(nodes, nowMs: nowMs) }
        var out = finishTransitions(nodes, nowMs: nowMs)
        guard feedFresh else { holding = "the feed is down: no decision on stale data"; return out }
        let awake = nodes.values.filter { $0.state == "awake" }
        if let stale = awake.first(where: { nowMs - $0.lastSeenMs > settings.staleMs }) {
            holding = "\(stale.name) is stale: no decision on stale data"
            return out
        }
        // One transition at a time, except that pods which cannot be placed may have up to
        // `maxConcurrentWakes` nodes booting for them: waking is the safe direction, and a
        // burst that needs three nodes should not wait for three boots in a row.
        let onlyWakes = inFlight.values.allSatisfy { $0.action == .wake }
        guard inFlight.isEmpty || (cluster.pendingPods > 0 && onlyWakes && inFlight.count < settings.maxConcurrentWakes) else {
            holding = "waiting for \(inFlight.keys.sorted().joined(separator: ", ")) to finish"
            return out
        }
        let bench = benchedUntilMs
        let benched = { (name: String) in (bench[name] ?? .min) > nowMs }
        let loads = awake.compactMap(\.utilisation)
        let mean = loads.isEmpty ? 0 : loads.reduce(0, +) / Double(loads.count)
        let pendingPods = cluster.pendingPods

        // Wake first: waiting pods matter more than saved watts.
        if pendingPods > 0 || mean > settings.wakeAbove {
            underSinceMs = nil
            let since = overSinceMs ?? nowMs
            overSinceMs = since
            let why = pendingPods > 0 ? "\(pendingPods) pods pending" : "mean utilisation \(pct(mean)) above \(pct(settings.wakeAbove))"
            // Pods the scheduler could not place wait now: no hold (cluster-autoscaler scales
            // up for them at once too). A busy fleet is held, so a burst does not wake a node.
            guard pendingPods > 0 || nowMs - since >= settings.wakeHoldMs else {
                holding = "\(why) for \((nowMs - since) / 1000) s of \(settings.wakeHoldMs / 1000) s"
                return out
            }
            // The most efficient sleeper that some awake agent can wake.
            let sleepers = nodes.values.filter { $0.state == "sleeping" && !benched($0.name) && inFlight[$0.name] == nil }
                .compactMap { r in WakeRoute.routes(for: r, in: nodes).first.map { (r, $0) } }
            let energy = settings.ranking == .energy
            guard let (pick, route) = sleepers.min(by: { energy ? (efficiency($0.0), $0.0.name) < (efficiency($1.0), $1.0.name) : $0.0.name < $1.0.name }) else {
                holding = "\(why), but no sleeping node can be woken"
                return out
            }
            inFlight[pick.name] = Transition(action: .wake, sinceMs: nowMs, tried: [route], attemptSinceMs: nowMs)
            lastWokenMs[pick.name] = nowMs
            overSinceMs = nil
            out.append(Decision(atMs: nowMs, node: pick.name, action: .wake,
                                reason: (pendingPods > 0 ? why : "\(why) for \(settings.wakeHoldMs / 1000) s") + "; "
                                    + (energy ? "\(pick.name) is the most efficient sleeping node (\(watts(efficiency(pick))) W per unit of work)"
                                              : "\(pick.name) is the first sleeping node") + ", woken by \(route)",
                                acted: acts, via: route.via, method: route.method))
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
        // A node nobody awake could wake again never goes to sleep.
        let energy = settings.ranking == .energy
        let idleLine = energy ? settings.idleBelow : settings.sleepBelow
        let candidates = awake.filter { r in
            !settings.protected.contains(r.name) && cluster.protected[r.name] == nil && !benched(r.name)
                && r.wakeMethod != "none" && (r.utilisation ?? 1) < idleLine
                && nowMs - (lastWokenMs[r.name] ?? .min / 2) >= settings.cooldownAfterWakeMs
                && !WakeRoute.routes(for: r, in: nodes).isEmpty
        }
        // The least efficient idle node goes first: it costs the most to keep awake.
        let chosen = energy ? candidates.max(by: { (idleCost($0), $1.name) < (idleCost($1), $0.name) })
                            : candidates.min(by: { ($0.utilisation ?? 1, $0.name) < ($1.utilisation ?? 1, $1.name) })
        guard let pick = chosen else {
            holding = "no idle node may sleep (protected, no way to wake it, busy, or recently woken)"
            return out
        }
        // What the rest would carry: must stay under the wake line, or it would flap.
        let remaining = awake.count - 1
        let projected = loads.reduce(0, +) / Double(max(remaining, 1))
        guard projected < settings.wakeAbove else {
            holding = "without \(pick.name) utilisation would be \(pct(projected)), above the wake line"
            return out
        }
        inFlight[pick.name] = Transition(action: .sleep, sinceMs: nowMs, attemptSinceMs: nowMs)
        underSinceMs = nil
        out.append(Decision(atMs: nowMs, node: pick.name, action: .sleep,
                            reason: "mean utilisation \(pct(mean)) below \(pct(settings.sleepBelow)) for \(settings.sleepHoldMs / 1000) s; "
                                + (energy ? "\(pick.name) is the least efficient idle node (\(watts(idleCost(pick))) W idle); "
                                          : "\(pick.name) is the least used node (\(pct(pick.utilisation ?? 0))); ")
                                + "\(remaining) stay awake at \(pct(projected))",
                            acted: acts))
        return out
    }

    /// Why an operator's sleep or wake was refused.
    public struct Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
        public init(reason: String) { self.reason = reason }
    }

    /// An operator's sleep or wake (nexusctl, through the coordinator's API). The rules
    /// that protect the fleet hold: a protected node, the last awake node or one nobody
    /// awake could wake again is not put to sleep; one change per node at a time. The
    /// minimum of awake nodes and the hold times are the policy's own pacing and do not
    /// bind an operator. Once accepted it is in flight like the policy's own (the overlay
    /// shows it, a failed wake falls back, a stuck sleep times out) and is acted on in
    /// every mode; a woken node then has the usual cooldown before the policy may sleep it.
    public mutating func request(_ action: Decision.Action, node: String, by who: String, nodes: [String: NodeRecord],
                                 nowMs: Int64, cluster: ClusterFacts = ClusterFacts()) throws(Refusal) -> Decision {
        guard let r = nodes[node] else { throw Refusal(reason: "\(node) is not a node the coordinator knows") }
        // A change that has finished since the last round is no longer under way.
        if let t = inFlight[node] {
            let done = t.action == .sleep ? (r.state == "sleeping" || r.state == "offline") : r.state == "awake"
            guard done else { throw Refusal(reason: "\(node) already has a \(t.action.rawValue) under way") }
            inFlight[node] = nil
        }
        let routes = WakeRoute.routes(for: r, in: nodes)
        switch action {
        case .sleep:
            guard r.state == "awake" else { throw Refusal(reason: "\(node) is \(r.state), not awake") }
            if settings.protected.contains(node) { throw Refusal(reason: "\(node) is protected (policy.protect)") }
            if let why = cluster.protected[node] { throw Refusal(reason: "\(node) must stay awake: \(why)") }
            guard nodes.values.contains(where: { $0.name != node && $0.state == "awake" }) else {
                throw Refusal(reason: "\(node) is the last awake node")
            }
            guard let route = routes.first else {
                throw Refusal(reason: "no awake agent could wake \(node) again (its wake method is \(r.wakeMethod))")
            }
            inFlight[node] = Transition(action: .sleep, sinceMs: nowMs, attemptSinceMs: nowMs, byOperator: true)
            return Decision(atMs: nowMs, node: node, action: .sleep,
                            reason: "asked by \(who); \(route) can wake it again", acted: true)
        case .wake:
            guard r.state == "sleeping" || r.state == "offline" else { throw Refusal(reason: "\(node) is \(r.state), not asleep") }
            guard let route = routes.first else {
                throw Refusal(reason: "no awake agent can wake \(node) (its wake method is \(r.wakeMethod))")
            }
            inFlight[node] = Transition(action: .wake, sinceMs: nowMs, tried: [route], attemptSinceMs: nowMs, byOperator: true)
            lastWokenMs[node] = nowMs
            benchedUntilMs[node] = nil
            return Decision(atMs: nowMs, node: node, action: .wake, reason: "asked by \(who); woken by \(route)",
                            acted: true, via: route.via, method: route.method)
        case .timeout, .aborted, .alert:
            throw Refusal(reason: "\(action.rawValue) is not something to ask for")
        }
    }

    /// The sleep of `node` was given up before the node was touched (the drain could not
    /// finish): it leaves the in-flight set and is not picked again for a while (the longer
    /// of the sleep hold time and the cooldown).
    public mutating func abortSleep(_ node: String, reason: String, nowMs: Int64) -> Decision? {
        guard let t = inFlight[node], t.action == .sleep else { return nil }
        inFlight[node] = nil
        // What blocked it (a pod with local storage, a budget) seldom clears within a hold time.
        let benchMs = max(settings.sleepHoldMs, settings.cooldownAfterWakeMs)
        benchedUntilMs[node] = nowMs + benchMs
        return Decision(atMs: nowMs, node: node, action: .aborted,
                        reason: "sleep given up, \(node) stays in service: \(reason); not picked again for \(benchMs / 1000) s",
                        acted: acts || t.byOperator)
    }

    /// Transitions that finished leave the in-flight set; a sleep past its timeout is
    /// reported; a wake past its attempt timeout tries the next way, and when none is
    /// left raises an alert.
    mutating func finishTransitions(_ nodes: [String: NodeRecord], nowMs: Int64) -> [Decision] {
        var out: [Decision] = []
        for (name, t) in inFlight.sorted(by: { $0.key < $1.key }) {
            let state = nodes[name]?.state
            let acts = self.acts || t.byOperator
            if t.action == .sleep {
                if state == "sleeping" || state == "offline" {
                    inFlight[name] = nil
                } else if nowMs - t.sinceMs >= settings.transitionTimeoutMs {
                    inFlight[name] = nil
                    out.append(Decision(atMs: nowMs, node: name, action: .timeout,
                                        reason: "sleep not finished after \(settings.transitionTimeoutMs / 1000) s (state \(state ?? "unknown"))",
                                        acted: acts))
                }
                continue
            }
            guard state != "awake" else { inFlight[name] = nil; continue }
            guard nowMs - t.attemptSinceMs >= settings.wakeAttemptTimeoutMs else { continue }
            let last = t.tried.last.map { "\($0)" } ?? "?"
            let untried = nodes[name].map { r in WakeRoute.routes(for: r, in: nodes).filter { !t.tried.contains($0) } } ?? []
            if let next = untried.first {
                var u = t
                u.tried.append(next)
                u.attemptSinceMs = nowMs
                inFlight[name] = u
                out.append(Decision(atMs: nowMs, node: name, action: .wake,
                                    reason: "fallback: not awake \(settings.wakeAttemptTimeoutMs / 1000) s after \(last) (state \(state ?? "unknown")); trying \(next)",
                                    acted: acts, via: next.via, method: next.method))
            } else {
                inFlight[name] = nil
                benchedUntilMs[name] = nowMs + settings.unwakeableForMs
                out.append(Decision(atMs: nowMs, node: name, action: .alert,
                                    reason: "could not wake \(name): tried \(t.tried.map(\.description).joined(separator: ", ")), "
                                        + "each for \(settings.wakeAttemptTimeoutMs / 1000) s; check its power and network. "
                                        + "Left out of wake picks for \(settings.unwakeableForMs / 60_000) min",
                                    acted: acts))
            }
        }
        return out
    }

    /// Watts per unit of work: a Pi 5 at 4.8 W per unit of load does twice a Pi 4's work.
    func efficiency(_ r: NodeRecord) -> Double { r.wattsPerWork ?? .infinity }
    func idleCost(_ r: NodeRecord) -> Double { r.energy?.idleWatts ?? r.watts ?? 0 }
    func pct(_ v: Double) -> String { "\(Int((v * 100).rounded())) %" }
    func watts(_ v: Double) -> String { v.isFinite ? "\((v * 10).rounded() / 10)" : "?" }
}
