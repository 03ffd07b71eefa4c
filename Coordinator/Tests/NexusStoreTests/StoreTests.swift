import Testing
import Foundation
@testable import NexusFleet
import NexusPolicy
import NexusStore

@Suite struct FleetDatabaseTests {
    func tempPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("fleet-\(UUID().uuidString).sqlite").path
    }

    @Test func aRestartLosesNothing() throws {
        let path = tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var r = NodeRecord(name: "pi-1")
        r.state = "sleeping"
        r.board = "pi4b"
        r.version = "0.1.0"
        r.wakeMethod = "poe-relay"
        r.wakeVia = "head"
        r.wakes = ["pi-2": "poe-relay", "pi-3": ""]
        r.lastSeenMs = 42
        r.throttleCelsius = 80
        r.capacity = 2
        var m = EnergyModel(priorIdleWatts: 2.7, priorMaxWatts: 6.4)
        for i in 0..<50 { m.learn(watts: 3 + 4 * Double(i % 10) / 10, utilisation: Double(i % 10) / 10) }
        r.energy = m
        let decision = Decision(atMs: 7, node: "pi-1", action: .sleep, reason: "because", acted: false)
        let wake = Decision(atMs: 8, node: "pi-3", action: .wake, reason: "pods wait", acted: true, via: "pi-1", method: "gpio-pulse")
        do {
            let db = try FleetDatabase(path: path)
            try db.save(nodes: [r])
            try db.record([decision, wake])
            r.state = "awake" // a second save updates in place
            try db.save(nodes: [r])
        }
        // A new process, the same file.
        let db = try FleetDatabase(path: path)
        let back = try db.loadNodes()
        #expect(back.count == 1)
        let n = try #require(back.first)
        #expect(n.state == "awake" && n.board == "pi4b" && n.wakeVia == "head" && n.wakes == ["pi-2": "poe-relay", "pi-3": ""])
        #expect(n.lastSeenMs == 42 && n.throttleCelsius == 80 && n.capacity == 2)
        // The learned model comes back exactly, and goes on learning the same way.
        #expect(n.energy == m)
        var a = try #require(n.energy), b = m
        a.learn(watts: 5, utilisation: 0.5)
        b.learn(watts: 5, utilisation: 0.5)
        #expect(a == b)
        #expect(try db.decisions() == [decision, wake])
    }

    @Test func energyIntegratesPowerOverTime() throws {
        let path = tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try FleetDatabase(path: path)
        var r = NodeRecord(name: "n")
        r.state = "awake"
        // 10 W for an hour, then 4 W for half an hour: 12 Wh.
        r.watts = 10
        try db.sampleEnergy([r], atMs: 0)
        r.watts = 4
        try db.sampleEnergy([r], atMs: 3_600_000)
        #expect(abs(try db.energyWh(node: "n", fromMs: 0, toMs: 5_400_000) - 12) < 1e-9)
        // A window inside the history: 30 min of the 10 W and 15 min of the 4 W.
        #expect(abs(try db.energyWh(node: "n", fromMs: 1_800_000, toMs: 4_500_000) - 6) < 1e-9)
        // Offline nodes add no readings.
        r.state = "offline"
        try db.sampleEnergy([r], atMs: 5_400_000)
        #expect(abs(try db.energyWh(node: "n", fromMs: 0, toMs: 5_400_000) - 12) < 1e-9)
    }

    @Test func anUnwritablePathIsAClearError() {
        #expect(throws: FleetDatabase.Failure.self) { _ = try FleetDatabase(path: "/nonexistent/dir/fleet.sqlite") }
    }
}
