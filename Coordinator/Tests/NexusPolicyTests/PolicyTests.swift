import Testing
@testable import NexusFleet
@testable import NexusPolicy

func node(_ name: String, _ state: String = "awake", util: Double = 0.05, idle: Double = 3, perLoad: Double = 4,
          seen: Int64 = 0, wake: String = "poe-relay") -> NodeRecord {
    var r = NodeRecord(name: name)
    r.state = state
    r.utilisation = util
    r.lastSeenMs = seen
    r.wakeMethod = wake
    r.energy = EnergyModel(priorIdleWatts: idle, priorMaxWatts: idle + perLoad)
    return r
}

/// A rack where every awake node can wake every other by that node's own method (the
/// routes are tested on their own below).
func fleet(_ nodes: NodeRecord...) -> [String: NodeRecord] {
    var out = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0) })
    for n in nodes where n.state == "awake" {
        out[n.name]?.online = true
        for other in nodes where other.name != n.name && other.wakeMethod != "none" {
            out[n.name]?.wakes[other.name] = other.wakeMethod
        }
    }
    return out
}

func settings(_ mode: PolicySettings.Mode = .on) -> PolicySettings {
    var s = PolicySettings()
    s.mode = mode
    s.minAwake = 2
    s.sleepHoldMs = 600_000
    s.wakeHoldMs = 60_000
    return s
}

/// Runs the policy every 10 s from `from` to `to` (ms), keeping the nodes fresh.
func run(_ p: inout PowerPolicy, _ nodes: inout [String: NodeRecord], from: Int64, to: Int64, pending: Int = 0,
         protected: [String: String] = [:], feedFresh: Bool = true) -> [Decision] {
    var out: [Decision] = []
    var t = from
    while t <= to {
        for k in nodes.keys { nodes[k]?.lastSeenMs = t }
        out += p.evaluate(nodes, nowMs: t, feedFresh: feedFresh, cluster: ClusterFacts(pendingPods: pending, protected: protected))
        t += 10_000
    }
    return out
}

@Suite struct PowerPolicyTests {
    @Test func sleepsTheLeastEfficientIdleNodeAfterTheHoldTime() throws {
        var p = PowerPolicy(settings: settings())
        var f = fleet(node("pi-a"), node("pi-b", idle: 2.5), node("pc-c", idle: 9), node("pi-d", util: 0.4))
        // Under the line for 9 min 50 s: nothing yet.
        #expect(run(&p, &f, from: 0, to: 590_000).isEmpty)
        #expect(p.holding?.contains("below 50 % for 590 s of 600 s") == true, "\(p.holding ?? "")")
        let d = run(&p, &f, from: 600_000, to: 600_000)
        let s = try #require(d.first)
        #expect(d.count == 1)
        #expect(s.node == "pc-c" && s.action == .sleep && s.acted)
        #expect(s.reason.contains("least efficient idle node (9.0 W idle)"), "\(s.reason)")
    }

    @Test func neverSleepsAProtectedNode() {
        var s = settings()
        s.protected = ["pc-c"] // e.g. the K3s server: control plane and etcd
        var p = PowerPolicy(settings: s)
        var f = fleet(node("pi-a"), node("pi-b", idle: 2.5), node("pc-c", idle: 9))
        let d = run(&p, &f, from: 0, to: 600_000)
        #expect(d.map(\.node) == ["pi-a"])
    }

    @Test func neverGoesBelowTheMinimumAwake() {
        var p = PowerPolicy(settings: settings())
        var f = fleet(node("a"), node("b"), node("c", "sleeping"))
        #expect(run(&p, &f, from: 0, to: 3_600_000).isEmpty)
        #expect(p.holding == "2 awake nodes, the minimum is 2")
    }

    @Test func hysteresisRestartsWhenLoadReturns() {
        var p = PowerPolicy(settings: settings())
        var f = fleet(node("a"), node("b"), node("c"))
        #expect(run(&p, &f, from: 0, to: 500_000).isEmpty)
        // A burst of work: the clock starts again.
        for k in f.keys { f[k]?.utilisation = 0.7 }
        #expect(run(&p, &f, from: 510_000, to: 520_000).isEmpty)
        for k in f.keys { f[k]?.utilisation = 0.05 }
        #expect(run(&p, &f, from: 530_000, to: 1_120_000).isEmpty)
        #expect(run(&p, &f, from: 1_130_000, to: 1_130_000).count == 1)
    }

    @Test func noSleepSoonAfterAWake() throws {
        func scenario(cooldownMs: Int64) throws -> String? {
            var s = settings()
            s.cooldownAfterWakeMs = cooldownMs
            var p = PowerPolicy(settings: s)
            // c is the most expensive node to keep awake, so without the cooldown it goes first.
            var f = fleet(node("a"), node("b"), node("c", "sleeping", idle: 9, perLoad: 2))
            let w = run(&p, &f, from: 0, to: 60_000, pending: 3)
            #expect(w.map(\.node) == ["c"] && w.first?.action == .wake)
            f["c"]?.state = "awake"
            let d = run(&p, &f, from: 70_000, to: 680_000)
            #expect(d.count == 1, "\(d)")
            return d.first?.node
        }
        // Woken 670 s before the sleep decision: inside a 20-minute cooldown, c stays up.
        #expect(try scenario(cooldownMs: 1_200_000) != "c")
        // With a 5-minute cooldown it has served its time, and is the one to go.
        #expect(try scenario(cooldownMs: 300_000) == "c")
    }

    @Test func neverActsOnStaleData() {
        var p = PowerPolicy(settings: settings())
        var f = fleet(node("a"), node("b"), node("c"))
        var t: Int64 = 0
        while t <= 1_200_000 {
            for k in ["a", "b"] { f[k]?.lastSeenMs = t } // c went quiet at 0
            #expect(p.evaluate(f, nowMs: t, feedFresh: true).isEmpty)
            t += 10_000
        }
        #expect(p.holding == "c is stale: no decision on stale data")
        // And with the feed itself down, nothing either.
        var q = PowerPolicy(settings: settings())
        var g = fleet(node("a"), node("b"), node("c"))
        #expect(run(&q, &g, from: 0, to: 1_200_000, feedFresh: false).isEmpty)
    }

    @Test func oneTransitionAtATimeAndTimeoutsAreReported() throws {
        var s = settings()
        s.sleepHoldMs = 0
        s.transitionTimeoutMs = 300_000
        var p = PowerPolicy(settings: s)
        var f = fleet(node("a"), node("b"), node("c"), node("d"))
        #expect(run(&p, &f, from: 0, to: 0).count == 1)
        // The node has not gone to sleep: no second decision, for it or any other.
        #expect(run(&p, &f, from: 10_000, to: 290_000).isEmpty)
        #expect(p.holding?.hasPrefix("waiting for") == true)
        let t = run(&p, &f, from: 300_000, to: 300_000)
        #expect(t.first?.action == .timeout)
        #expect(t.first?.reason.contains("sleep not finished after 300 s") == true)
    }

    @Test func aFinishedTransitionFreesThePolicy() {
        var s = settings()
        s.sleepHoldMs = 0
        var p = PowerPolicy(settings: s)
        var f = fleet(node("a"), node("b"), node("c"), node("d", idle: 9))
        let first = run(&p, &f, from: 0, to: 0)
        #expect(first.map(\.node) == ["d"])
        f["d"]?.state = "sleeping"
        let next = run(&p, &f, from: 10_000, to: 10_000)
        #expect(next.count == 1 && next.first?.node != "d")
    }

    @Test func wakesTheMostEfficientSleeperWhenPodsWait() throws {
        var p = PowerPolicy(settings: settings())
        var f = fleet(node("a", util: 0.9), node("b", util: 0.9), node("pc", "sleeping", perLoad: 50),
                      node("pi", "sleeping", perLoad: 4), node("dark", "sleeping", perLoad: 1, wake: "none"))
        // Pods that cannot be placed wake a node at once...
        let d = try #require(run(&p, &f, from: 0, to: 0, pending: 2).first)
        #expect(d.node == "pi" && d.action == .wake)
        #expect(d.reason.hasPrefix("2 pods pending; pi is the most efficient sleeping node"), "\(d.reason)")
        // ...a busy fleet only after the hold time.
        var q = PowerPolicy(settings: settings())
        var g = fleet(node("a", util: 0.9), node("b", util: 0.9), node("pi", "sleeping", perLoad: 4))
        #expect(run(&q, &g, from: 0, to: 50_000).isEmpty)
        #expect(run(&q, &g, from: 60_000, to: 60_000).first?.reason.hasPrefix("mean utilisation 90 % above 80 % for 60 s") == true)
    }

    @Test func dryRunDecidesButDoesNotAct() {
        var s = settings(.dryRun)
        s.sleepHoldMs = 0
        var p = PowerPolicy(settings: s)
        var f = fleet(node("a"), node("b"), node("c"))
        let d = run(&p, &f, from: 0, to: 0)
        #expect(d.count == 1 && d.allSatisfy { !$0.acted })
        var off = PowerPolicy(settings: settings(.off))
        #expect(run(&off, &f, from: 0, to: 3_600_000).isEmpty)
    }

    @Test func wakeRoutesPutTheNodesOwnWayFirstAndThePowerCutLast() {
        var x = node("x", "sleeping", wake: "poe-relay")
        x.wakeVia = "head"
        func waker(_ name: String, _ method: String, _ state: String = "awake") -> NodeRecord {
            var r = node(name, state)
            r.online = state == "awake"
            r.wakes = ["x": method]
            return r
        }
        let nodes = [x, waker("head", "poe-relay"), waker("c", "poe-relay"), waker("a", "wol"), waker("b", "gpio-pulse"),
                     waker("d", "wol", "sleeping"), node("e")]
        let f = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0) })
        #expect(WakeRoute.routes(for: x, in: f) == [WakeRoute(via: "head", method: "poe-relay"), WakeRoute(via: "a", method: "wol"),
                                                      WakeRoute(via: "b", method: "gpio-pulse"), WakeRoute(via: "c", method: "poe-relay")])
    }

    @Test func aWakeThatDoesNotWorkTriesTheNextWayThenRaisesAnAlert() throws {
        var s = settings()
        s.wakeHoldMs = 0
        s.wakeAttemptTimeoutMs = 180_000
        s.maxConcurrentWakes = 1 // one wake at a time, to follow x's
        var p = PowerPolicy(settings: s)
        var f = fleet(node("a", util: 0.9), node("b", util: 0.9), node("x", "sleeping", perLoad: 2), node("y", "sleeping", perLoad: 6))
        f["a"]?.wakes["x"] = "wol"      // a sends magic packets to x...
        f["b"]?.wakes["x"] = "poe-relay" // ...b can cut its power
        f["x"]?.wakeMethod = "wol"
        let first = try #require(run(&p, &f, from: 0, to: 0, pending: 1).first)
        #expect(first.node == "x" && first.action == .wake && first.via == "a" && first.method == "wol")
        // x does not come up: nothing for 170 s, then the power cycle through b.
        #expect(run(&p, &f, from: 10_000, to: 170_000, pending: 1).isEmpty)
        let second = try #require(run(&p, &f, from: 180_000, to: 180_000, pending: 1).first)
        #expect(second.action == .wake && second.via == "b" && second.method == "poe-relay")
        #expect(second.reason.contains("fallback: not awake 180 s after wol via a"), "\(second.reason)")
        // Still not up: an alert, and x is left out; the pods get y instead.
        let third = run(&p, &f, from: 190_000, to: 360_000, pending: 1)
        let alert = try #require(third.first)
        #expect(alert.action == .alert && alert.node == "x")
        #expect(alert.reason.contains("tried wol via a, poe-relay via b"), "\(alert.reason)")
        #expect(third.dropFirst().first?.node == "y" && third.dropFirst().first?.action == .wake, "\(third)")
    }

    @Test func aNodeThatComesUpEndsItsWake() {
        var s = settings()
        s.wakeHoldMs = 0
        var p = PowerPolicy(settings: s)
        var f = fleet(node("a", util: 0.9), node("b", util: 0.9), node("x", "sleeping"))
        #expect(run(&p, &f, from: 0, to: 0, pending: 1).count == 1)
        f["x"]?.state = "awake"
        #expect(run(&p, &f, from: 10_000, to: 10_000, pending: 0).isEmpty)
        #expect(p.inFlight.isEmpty)
    }

    @Test func neverSleepsANodeNobodyCouldWake() {
        var s = settings()
        s.sleepHoldMs = 0
        var p = PowerPolicy(settings: s)
        var f = fleet(node("a"), node("b"), node("c"))
        for k in f.keys { f[k]?.wakes = [:] } // c's waker is asleep, or it was never wired
        #expect(run(&p, &f, from: 0, to: 600_000).isEmpty)
        #expect(p.holding?.contains("no way to wake it") == true, "\(p.holding ?? "")")
    }

    @Test func theClustersControlPlaneAndOptedOutNodesStayAwake() {
        var s = settings()
        s.sleepHoldMs = 0
        var p = PowerPolicy(settings: s)
        var f = fleet(node("server", idle: 9), node("opted", idle: 8), node("w1"), node("w2", idle: 4))
        let d = run(&p, &f, from: 0, to: 0, protected: ["server": "etcd member", "opted": "opted out"])
        #expect(d.map(\.node) == ["w2"])
    }

    @Test func anAbortedSleepLeavesTheNodeInServiceForAHoldTime() throws {
        var s = settings()
        s.sleepHoldMs = 60_000
        var p = PowerPolicy(settings: s)
        var f = fleet(node("a"), node("b"), node("c", idle: 4), node("pc", idle: 9))
        #expect(run(&p, &f, from: 0, to: 60_000).map(\.node) == ["pc"])
        let aborted = p.abortSleep("pc", reason: "default/db-0: local storage", nowMs: 65_000)
        let d = try #require(aborted)
        #expect(d.action == .aborted && d.reason.contains("pc stays in service: default/db-0: local storage"))
        let again = p.abortSleep("pc", reason: "again", nowMs: 65_000)
        #expect(again == nil) // nothing in flight any more
        // A hold time later the next pick is the next most expensive node, not pc again
        // (it sits out the 10-minute cooldown).
        #expect(run(&p, &f, from: 70_000, to: 130_000).map(\.node) == ["c"])
    }

    @Test func utilisationRankingIsClusterAutoscalersWayWithoutAPowerModel() throws {
        var s = settings()
        s.sleepHoldMs = 0
        s.ranking = .utilisation
        var p = PowerPolicy(settings: s)
        // pc costs the most to keep awake, but pi-b is the least used: that one goes, even
        // though it is not idle (below 50 % is enough for cluster-autoscaler).
        var f = fleet(node("pi-a", util: 0.4), node("pi-b", util: 0.3), node("pc", util: 0.35, idle: 9), node("pi-c", util: 0.45))
        let d = try #require(run(&p, &f, from: 0, to: 0).first)
        #expect(d.node == "pi-b" && d.reason.contains("least used node (30 %)"), "\(d.reason)")
        // Waking: the first sleeper by name, whatever it costs.
        var q = PowerPolicy(settings: s)
        var g = fleet(node("a", util: 0.9), node("b", util: 0.9), node("pc", "sleeping", perLoad: 50), node("pi", "sleeping", perLoad: 4))
        #expect(run(&q, &g, from: 0, to: 0, pending: 1).first?.node == "pc")
    }

    @Test func podsThatWaitMayHaveSeveralNodesBootingButNeverOneTwice() {
        var s = settings()
        s.maxConcurrentWakes = 3
        var p = PowerPolicy(settings: s)
        var f = fleet(node("a", util: 0.9), node("b", util: 0.9), node("s1", "sleeping", perLoad: 1), node("s2", "sleeping", perLoad: 2),
                      node("s3", "sleeping", perLoad: 3), node("s4", "sleeping", perLoad: 4))
        // One more each round while pods still wait, cheapest first, at most three at once.
        let d = run(&p, &f, from: 0, to: 50_000, pending: 8)
        #expect(d.map(\.node) == ["s1", "s2", "s3"], "\(d)")
        #expect(p.holding == "waiting for s1, s2, s3 to finish")
        // Without pending pods nothing new starts while wakes are under way (a busy fleet
        // alone waits for them).
        f["s1"]?.state = "awake"
        #expect(run(&p, &f, from: 60_000, to: 60_000).isEmpty)
        #expect(p.inFlight.keys.sorted() == ["s2", "s3"])
    }
}

/// An operator's sleep and wake (nexusctl through the coordinator's API).
@Suite struct OperatorRequestTests {
    @Test func aSleepIsCheckedByTheSafetyRulesAndThenInFlightInEveryMode() throws {
        var s = settings(.off)
        s.protected = ["head"]
        var p = PowerPolicy(settings: s)
        var f = fleet(node("head"), node("n1"), node("pc", wake: "none"))
        // The minimum of awake nodes (2) does not bind an operator; these rules do.
        #expect(throws: PowerPolicy.Refusal(reason: "head is protected (policy.protect)")) {
            try p.request(.sleep, node: "head", by: "op", nodes: f, nowMs: 0)
        }
        #expect(throws: PowerPolicy.Refusal(reason: "n1 must stay awake: control-plane node")) {
            try p.request(.sleep, node: "n1", by: "op", nodes: f, nowMs: 0, cluster: ClusterFacts(protected: ["n1": "control-plane node"]))
        }
        #expect(throws: PowerPolicy.Refusal(reason: "no awake agent could wake pc again (its wake method is none)")) {
            try p.request(.sleep, node: "pc", by: "op", nodes: f, nowMs: 0)
        }
        #expect(throws: PowerPolicy.Refusal(reason: "n9 is not a node the coordinator knows")) {
            try p.request(.sleep, node: "n9", by: "op", nodes: f, nowMs: 0)
        }
        let d = try p.request(.sleep, node: "n1", by: "op", nodes: f, nowMs: 1_000)
        #expect(d.action == .sleep && d.acted && d.reason.hasPrefix("asked by op"))
        #expect(p.inFlight["n1"]?.byOperator == true)
        #expect(throws: PowerPolicy.Refusal(reason: "n1 already has a sleep under way")) {
            try p.request(.wake, node: "n1", by: "op", nodes: f, nowMs: 2_000)
        }
        // With the policy off, a sleep that never finishes still times out, acted on.
        let late = run(&p, &f, from: 1_000 + s.transitionTimeoutMs, to: 1_000 + s.transitionTimeoutMs)
        #expect(late.map(\.action) == [.timeout] && late.first?.acted == true)
        #expect(p.inFlight.isEmpty)
    }

    @Test func theLastAwakeNodeStaysAwake() {
        var p = PowerPolicy(settings: settings())
        let f = fleet(node("n1"), node("n2", "sleeping"))
        #expect(throws: PowerPolicy.Refusal(reason: "n1 is the last awake node")) {
            try p.request(.sleep, node: "n1", by: "op", nodes: f, nowMs: 0)
        }
    }

    @Test func aWakeTakesTheBestRouteFallsBackAndIsNotSleptAgainAtOnce() throws {
        var s = settings(.dryRun)
        s.wakeAttemptTimeoutMs = 60_000
        s.cooldownAfterWakeMs = 600_000
        var p = PowerPolicy(settings: s)
        var f = fleet(node("head"), node("n2"), node("n3"), node("n1", "sleeping"))
        #expect(throws: PowerPolicy.Refusal(reason: "head is awake, not asleep")) {
            try p.request(.wake, node: "head", by: "op", nodes: f, nowMs: 0)
        }
        let d = try p.request(.wake, node: "n1", by: "op", nodes: f, nowMs: 0)
        #expect(d.action == .wake && d.acted && d.via != nil && d.method == "poe-relay")
        // Not back after the attempt timeout: the next way, acted on although the mode is dry-run.
        let next = run(&p, &f, from: 60_000, to: 60_000)
        let fallback = try #require(next.first { $0.node == "n1" })
        #expect(fallback.action == .wake && fallback.acted && fallback.via != d.via, "\(next)")
        // Back: no longer in flight, and the policy's cooldown keeps it awake.
        f["n1"]?.state = "awake"
        _ = run(&p, &f, from: 70_000, to: 70_000)
        #expect(p.inFlight.isEmpty)
        #expect(p.lastWokenMs["n1"] == 0)
    }

    @Test func aFinishedChangeNoLongerBlocksTheNext() throws {
        var p = PowerPolicy(settings: settings(.off))
        var f = fleet(node("head"), node("n1"), node("n2"))
        _ = try p.request(.sleep, node: "n1", by: "op", nodes: f, nowMs: 0)
        // The node is asleep before the next policy round has noticed.
        f["n1"]?.state = "sleeping"
        f = fleet(f["head"]!, f["n1"]!, f["n2"]!)
        let d = try p.request(.wake, node: "n1", by: "op", nodes: f, nowMs: 1_000)
        #expect(d.action == .wake)
    }
}

@Suite struct AllRoutesTests {
    @Test func oneSweepGivesWhatAskingNodeByNodeGives() {
        var f = fleet(node("head", wake: "none"), node("a", wake: "wol"), node("b", "sleeping", wake: "gpio-pulse"),
                      node("c", "sleeping", wake: "poe-relay"), node("d", "offline"))
        f["b"]?.wakeVia = "a"
        f["head"]?.wakes["b"] = "poe-relay"
        let all = WakeRoute.allRoutes(in: f)
        for name in f.keys.sorted() {
            #expect((all[name] ?? []) == WakeRoute.routes(for: f[name]!, in: f), "\(name)")
        }
        // b's own way through its declared neighbour comes first.
        #expect(all["b"]?.first == WakeRoute(via: "a", method: "gpio-pulse"))
    }
}
