import Testing
import Foundation
import NexusWire
@testable import NexusFleet

func status(_ node: String, state: String = "awake", board: String = "pi4b", wake: String = #"{"method":"poe-relay","via":"head"}"#) -> [UInt8] {
    var p = StatusPayload(node: node, online: true, state: state, version: "0.1.0", board: board, timestampMs: 1)
    p.wakes = ["pi-9", "pi-8"]
    p.wakeMethods = ["pi-9": "wol"]
    var text = p.json.serialized()
    text = text.replacingOccurrences(of: #""wake":{"method":"none"}"#, with: #""wake":\#(wake)"#)
    return Array(text.utf8)
}

func telemetry(_ node: String, seq: Int, watts: Double, utilisation: Double, celsius: Double = 50) -> [UInt8] {
    Array("""
    {"seq":\(seq),"schema":1,"node":"\(node)","board":"pi4b","timestamp_ms":1,"power":[],"total_power_w":\(watts),
     "temperatures":[{"chip":"cpu_thermal-virtual-0","label":"temp1","celsius":\(celsius),"alarm":false},
                     {"chip":"x","label":"y","celsius":\(celsius - 10),"alarm":false}],
     "cpu":{"utilisation":\(utilisation)},"load":{"1m":0.5,"5m":0.4,"15m":0.3},
     "memory":{"total_kib":1000,"available_kib":750,"used_fraction":0.25},"faults":[],"energy_kwh":0.001}
    """.utf8)
}

@Suite struct FleetTests {
    @Test func statusAndTelemetryBuildTheRecord() throws {
        var f = Fleet()
        f.ingest(topic: "nexusgrid/v1/pi-1/status", payload: status("pi-1"), nowMs: 1000)
        f.ingest(topic: "nexusgrid/v1/pi-1/telemetry", payload: telemetry("pi-1", seq: 1, watts: 4.2, utilisation: 0.4), nowMs: 2000)
        let r = try #require(f.nodes["pi-1"])
        #expect(r.state == "awake" && r.online && r.board == "pi4b")
        #expect(r.wakeMethod == "poe-relay" && r.wakeVia == "head")
        // An agent that does not say how it wakes a node still counts as one that can.
        #expect(r.wakes == ["pi-9": "wol", "pi-8": ""])
        #expect(r.watts == 4.2 && r.utilisation == 0.4 && r.maxCelsius == 50 && r.memoryUsed == 0.25)
        #expect(r.lastSeenMs == 2000)
        // pi4b's board file: throttles at 80 °C.
        #expect(r.thermalHeadroom == 30)
        #expect(r.energy?.samples == 1)
    }

    @Test func aNodeThatWentToSleepIsStillAsleepWhenItDropsOff() throws {
        var f = Fleet()
        f.ingest(topic: "nexusgrid/v1/pi-1/status", payload: status("pi-1", state: "sleeping"), nowMs: 1000)
        // Its Last Will (or an older agent's clean exit) says offline: it is a node to wake.
        let will = Array(#"{"schema":1,"node":"pi-1","online":false,"state":"offline","version":"0.1.0","board":"pi4b"}"#.utf8)
        f.ingest(topic: "nexusgrid/v1/pi-1/status", payload: will, nowMs: 2000)
        #expect(f.nodes["pi-1"]?.state == "sleeping" && f.nodes["pi-1"]?.online == false)
        // An awake node that drops off is offline, as before.
        f.ingest(topic: "nexusgrid/v1/pi-2/status", payload: status("pi-2"), nowMs: 1000)
        f.ingest(topic: "nexusgrid/v1/pi-2/status", payload: Array(String(decoding: will, as: UTF8.self).replacingOccurrences(of: "pi-1", with: "pi-2").utf8), nowMs: 2000)
        #expect(f.nodes["pi-2"]?.state == "offline")
        // Back up: awake.
        f.ingest(topic: "nexusgrid/v1/pi-1/status", payload: status("pi-1"), nowMs: 3000)
        #expect(f.nodes["pi-1"]?.state == "awake")
    }

    @Test func untrustedInputIsCountedNotApplied() {
        var f = Fleet()
        f.ingest(topic: "nexusgrid/v1/pi-1/status", payload: Array("{not json".utf8), nowMs: 1)
        // A message claiming to be another node, on pi-1's topic.
        f.ingest(topic: "nexusgrid/v1/pi-1/status", payload: status("pi-2"), nowMs: 1)
        f.ingest(topic: "nexusgrid/v1/pi-1/status", payload: Array("[1,2]".utf8), nowMs: 1)
        // Commands and foreign topics are not the fleet's.
        f.ingest(topic: "nexusgrid/v1/pi-1/cmd/sleep", payload: status("pi-1"), nowMs: 1)
        f.ingest(topic: "other/v1/pi-1/status", payload: status("pi-1"), nowMs: 1)
        #expect(f.nodes.isEmpty)
        #expect(f.rejected == 3)
    }

    @Test func outOfOrderTelemetryIsIgnored() throws {
        var f = Fleet()
        f.ingest(topic: "nexusgrid/v1/n/telemetry", payload: telemetry("n", seq: 5, watts: 5, utilisation: 0.5), nowMs: 1)
        f.ingest(topic: "nexusgrid/v1/n/telemetry", payload: telemetry("n", seq: 4, watts: 9, utilisation: 0.9), nowMs: 2)
        #expect(f.nodes["n"]?.watts == 5)
        // seq 1 is an agent restart, not an old message.
        f.ingest(topic: "nexusgrid/v1/n/telemetry", payload: telemetry("n", seq: 1, watts: 3, utilisation: 0.1), nowMs: 3)
        #expect(f.nodes["n"]?.watts == 3)
    }
}

@Suite struct EnergyModelTests {
    @Test func startsFromTheBoardFigures() {
        let m = EnergyModel(priorIdleWatts: 2.7, priorMaxWatts: 6.4)
        #expect(m.idleWatts == 2.7)
        #expect(abs(m.wattsPerLoad - 3.7) < 1e-9)
        #expect(abs(m.watts(atUtilisation: 0.5) - 4.55) < 1e-9)
    }

    @Test func learnsTheNodesRealLine() {
        // The board says 2.7 W idle, 6.4 W flat out; this node really draws 3.5 + 5 × load.
        var m = EnergyModel(priorIdleWatts: 2.7, priorMaxWatts: 6.4)
        var rng = SplitMix(seed: 7)
        for i in 0..<2000 {
            let u = Double(i % 100) / 100
            let noise = (rng.nextDouble() - 0.5) * 0.2
            m.learn(watts: 3.5 + 5 * u + noise, utilisation: u)
        }
        #expect(abs(m.idleWatts - 3.5) < 0.05, "idle \(m.idleWatts)")
        #expect(abs(m.wattsPerLoad - 5) < 0.1, "slope \(m.wattsPerLoad)")
    }

    @Test func anIdleOnlyNodeKeepsThePriorSlope() {
        var m = EnergyModel(priorIdleWatts: 2.7, priorMaxWatts: 6.4)
        for _ in 0..<500 { m.learn(watts: 3.0, utilisation: 0.02) }
        #expect(abs(m.watts(atUtilisation: 0.02) - 3.0) < 0.05)
        // Idle samples say little about full load: the slope stays near the board's.
        #expect(m.wattsPerLoad > 2.5, "slope \(m.wattsPerLoad)")
    }

    @Test func nonsenseSamplesAreIgnored() {
        var m = EnergyModel(priorIdleWatts: 2.7, priorMaxWatts: 6.4)
        m.learn(watts: .nan, utilisation: 0.5)
        m.learn(watts: -1, utilisation: 0.5)
        m.learn(watts: 3, utilisation: 7)
        #expect(m.samples == 0 && m.idleWatts == 2.7)
    }
}

/// A small deterministic generator, so the learning test is repeatable.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
