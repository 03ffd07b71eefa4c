import Testing
@testable import NexusFleetSim
import NexusPolicy

/// The simulator's accounting: energy is power integrated over time, exactly.
@Suite struct FleetSimTests {
    func pi(_ name: String, idle: Double = 3, max: Double = 7, halted: Double = 0.5, capacity: Double = 1) -> SimNode {
        SimNode(name: name, board: "pi4b", idleWatts: idle, maxWatts: max, haltedWatts: halted, capacity: capacity,
                bootSeconds: 45, wakeMethod: "poe-relay")
    }

    @Test func theLedgerIntegratesPowerOverTime() {
        var l = EnergyLedger()
        l.add(watts: 5, seconds: 3600)
        l.add(watts: 2, seconds: 1800)
        #expect(l.wattHours == 6)
    }

    @Test func anIdleAlwaysOnFleetUsesIdleWattsTimesTheDay() {
        let nodes = [pi("a"), pi("b", idle: 2.5), pi("c", idle: 9, max: 65)]
        let sim = FleetSimulator(nodes: nodes, demand: Array(repeating: 0, count: 8640), stepSeconds: 10, settings: PolicySettings())
        let r = sim.run(.alwaysOn)
        #expect(abs(r.energyWh - (3 + 2.5 + 9) * 24) < 1e-9)
        #expect(abs((r.perNodeWh["c"] ?? 0) - 9 * 24) < 1e-9)
        #expect(r.transitions.values.allSatisfy { $0 == 0 } && r.shortSeconds == 0)
    }

    @Test func aSteadyLoadIsSpreadByCapacityAndCostsItsLine() {
        // 3 work units on 1 + 2 units of capacity: both at 100 %... and 1.5 on them at 50 %.
        let nodes = [pi("a"), pi("b", capacity: 2)]
        let sim = FleetSimulator(nodes: nodes, demand: Array(repeating: 1.5, count: 360), stepSeconds: 10, settings: PolicySettings())
        let r = sim.run(.alwaysOn)
        // An hour at 50 %: (3 + 4 × 0.5) W each.
        #expect(abs(r.energyWh - 2 * 5) < 1e-9)
        // Over capacity: the excess is unmet demand, integrated, and counted as time short.
        let over = FleetSimulator(nodes: nodes, demand: Array(repeating: 4, count: 360), stepSeconds: 10, settings: PolicySettings()).run(.alwaysOn)
        #expect(abs(over.unmetUnitHours - 1) < 1e-9)
        #expect(over.shortSeconds == 3600 && over.longestShortSeconds == 3600)
        #expect(abs(over.energyWh - 2 * 7) < 1e-9)
    }

    @Test func packingFillsTheCheapestWorkFirst() {
        let sim = FleetSimulator(nodes: [], demand: [], stepSeconds: 10, settings: PolicySettings())
        let cheap = pi("cheap", idle: 3, max: 5, capacity: 2) // 1 W per unit of work
        let dear = pi("dear", idle: 3, max: 7)                // 4 W per unit of work
        let (u, unmet) = sim.place(2, on: [dear, cheap], pack: true)
        #expect(u["cheap"] == 0.8 && abs((u["dear"] ?? 0) - 0.4) < 1e-12 && unmet == 0)
        let (s, _) = sim.place(2, on: [dear, cheap], pack: false)
        #expect(abs((s["cheap"] ?? 0) - 2.0 / 3) < 1e-12 && abs((s["dear"] ?? 0) - 2.0 / 3) < 1e-12)
    }

    /// One node sleeps after the hold time: idle until the decision, idle while draining,
    /// then its halted watts, to the watt-hour.
    @Test func aSleepingNodeCostsItsHaltedWatts() throws {
        let nodes = [pi("a"), pi("b"), pi("pc", idle: 9, max: 65, halted: 1.2)]
        var s = PolicySettings()
        s.minAwake = 2
        let sim = FleetSimulator(nodes: nodes, demand: Array(repeating: 0, count: 8640), stepSeconds: 10, settings: s)
        let r = sim.run(.nexusgrid)
        let sleep = try #require(r.decisions.first)
        #expect(sleep.node == "pc" && sleep.action == .sleep && sleep.atMs == 600_000) // the 10-minute hold
        #expect(r.decisions.count == 1 && r.transitions == ["a": 0, "b": 0, "pc": 1])
        #expect(abs((r.perNodeWh["pc"] ?? 0) - (9 * 630 + 1.2 * (86_400 - 630)) / 3600) < 1e-9)
        #expect(abs((r.perNodeWh["a"] ?? 0) - 3 * 24) < 1e-9)
    }

    @Test func workThatDoesNotFitWaitsOneBoot() throws {
        let nodes = [pi("a", capacity: 2), pi("b"), pi("c")]
        var s = PolicySettings()
        s.minAwake = 1
        s.protected = ["a"]
        let demand = Array(repeating: 0.0, count: 180) + Array(repeating: 2.5, count: 180) // 30 min idle, then 30 min busy
        let r = FleetSimulator(nodes: nodes, demand: demand, stepSeconds: 10, settings: s).run(.nexusgrid)
        // b and c went to sleep in the idle half hour; the pods that do not fit wake one,
        // and (still waiting the next round) a second: up to three may boot at once.
        #expect(r.decisions.filter { $0.action == .sleep }.map(\.node).sorted() == ["b", "c"], "\(r.decisions)")
        #expect(r.decisions.filter { $0.action == .wake }.count == 2, "\(r.decisions)")
        // 0.5 units did not fit on a alone: unmet from 30:00 until the woken node had booted (45 s).
        #expect(r.longestShortSeconds == 50, "\(r.longestShortSeconds)")
        #expect(abs(r.unmetUnitHours - 0.5 * 50 / 3600) < 1e-9)
    }

    @Test func theLoadCurveIsRepeatableAndBounded() {
        let a = LoadCurve.officeDay(capacity: 10, stepSeconds: 60, seed: 7)
        let b = LoadCurve.officeDay(capacity: 10, stepSeconds: 60, seed: 7)
        let c = LoadCurve.officeDay(capacity: 10, stepSeconds: 60, seed: 8)
        #expect(a == b && a != c && a.count == 1440)
        #expect(a.allSatisfy { (0...10).contains($0) })
        // Quiet at 04:00, busy at 15:00.
        #expect(a[240] < 2 && a[900] > 3)
    }
}
