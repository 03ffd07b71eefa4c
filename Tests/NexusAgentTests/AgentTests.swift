import Testing
import Foundation
import NexusHardware
import NexusDrivers
import NexusSimulation
import NexusBoards
@testable import NexusAgent

/// A /proc fixture whose CPU counters the test moves.
final class FakeProc {
    let dir: URL
    var busy: UInt64 = 0
    var idle: UInt64 = 0

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("nexus-proc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "MemTotal: 1000 kB\nMemAvailable: 250 kB\n".write(to: dir.appendingPathComponent("meminfo"), atomically: true, encoding: .utf8)
        try "1.50 1.00 0.50 2/100 999\n".write(to: dir.appendingPathComponent("loadavg"), atomically: true, encoding: .utf8)
        try write()
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// Advances the counters by `ticks`, `fraction` of them busy.
    func run(ticks: UInt64, fraction: Double) throws {
        let b = UInt64(Double(ticks) * fraction)
        busy += b
        idle += ticks - b
        try write()
    }

    func write() throws {
        try "cpu  \(busy) 0 0 \(idle) 0 0 0 0 0 0\n".write(to: dir.appendingPathComponent("stat"), atomically: true, encoding: .utf8)
    }

    var procFS: ProcFS { ProcFS(root: dir.path) }
}

@Suite struct SamplerTests {
    @Test func simulatedPowerFollowsCPULoad() throws {
        let proc = try FakeProc()
        let board = try BoardCatalog.load("sim")
        let clock = ManualClock()
        let devices = try NodeDevices(board: board, options: NodeDevices.Options(), clock: clock, logger: .silent, proc: proc.procFS)
        let sampler = Sampler(devices: devices, node: "n1", proc: proc.procFS, logger: .silent)
        sampler.prime()

        try proc.run(ticks: 1000, fraction: 0)
        clock.advance(.seconds(1))
        let idle = sampler.sample(now: clock.now, wallMs: 1)
        try proc.run(ticks: 1000, fraction: 1)
        clock.advance(.seconds(1))
        let busy = sampler.sample(now: clock.now, wallMs: 2)

        // Idle 2.7 W and full load 6.4 W (the sim board's figures), through the INA219
        // model's registers and the real driver: within its 2 mW power LSB and rounding.
        let idleW = try #require(idle.power.first?.reading?.watts)
        let busyW = try #require(busy.power.first?.reading?.watts)
        #expect(abs(idleW - 2.7) < 0.02)
        #expect(abs(busyW - 6.4) < 0.02)
        #expect(idle.cpuUtilisation == 0)
        #expect(busy.cpuUtilisation == 1)
        #expect(busy.power.first?.source == "simulated")
        #expect(busy.power.first?.reading?.busVolts == 5.1)
        // The temperature rises with load.
        let t0 = try #require(idle.temperatures.first?.celsius)
        let t1 = try #require(busy.temperatures.first?.celsius)
        #expect(t1 > t0)
        #expect(busy.memory?.usedFraction == 0.75)
        #expect(busy.load?.one == 1.5)
        #expect(busy.faults.isEmpty)
    }

    @Test func jsonHasTheDocumentedShape() throws {
        let proc = try FakeProc()
        let board = try BoardCatalog.load("sim")
        let clock = ManualClock()
        let devices = try NodeDevices(board: board, options: NodeDevices.Options(), clock: clock, logger: .silent, proc: proc.procFS)
        let sampler = Sampler(devices: devices, node: "n1", proc: proc.procFS, logger: .silent)
        let s = sampler.sample(now: clock.now, wallMs: 1_700_000_000_000)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(s.jsonText(pretty: false).utf8)) as? [String: Any])
        #expect(obj["schema"] as? Int == 1)
        #expect(obj["node"] as? String == "n1")
        #expect(obj["timestamp_ms"] as? Int == 1_700_000_000_000)
        let power = try #require(obj["power"] as? [[String: Any]])
        #expect(power.first?["status"] as? String == "ok")
        for key in ["name", "label", "address", "source", "bus_v", "shunt_v", "current_a", "power_w", "conversion_ready"] {
            #expect(power.first?[key] != nil, "power[0].\(key)")
        }
        for key in ["total_power_w", "temperatures", "hwmon_other", "cpu", "load", "memory", "faults"] {
            #expect(obj[key] != nil, "\(key)")
        }
    }
}

@Suite struct AgentCoreTests {
    func sample(faulty: Bool) -> Sample {
        Sample(board: "sim", node: "n", timestampMs: 0,
               power: [Sample.Power(name: "node", label: "n", address: I2CAddress(rawValue: 0x40)!, source: "i2c",
                                    reading: nil, error: faulty ? "INA219: no acknowledge" : nil)].filter { _ in faulty },
               temperatures: [], otherHwmon: [], cpuUtilisation: 0, load: nil, memory: nil)
    }

    @Test func startsAwakeWithHeartbeat() {
        let core = AgentCore(hasFaultLed: true)
        #expect(core.initialActions() == [.showLed("status", .heartbeat), .showLed("fault", .off)])
    }

    @Test func faultTurnsOnTheFaultLedAndClears() {
        var core = AgentCore(hasFaultLed: true)
        let now = Instant(nanoseconds: 1)
        let a = core.handle(.sample(sample(faulty: true)), now: now)
        #expect(core.state == .fault)
        #expect(a.contains(.showLed("fault", .fault)))
        #expect(a.contains { if case .log(.warning, let m) = $0 { m.contains("no acknowledge") } else { false } })
        // The same fault again changes nothing.
        #expect(core.handle(.sample(sample(faulty: true)), now: now).isEmpty)
        let b = core.handle(.sample(sample(faulty: false)), now: now)
        #expect(core.state == .awake)
        #expect(b.contains(.showLed("fault", .off)))
        #expect(b.contains(.log(.notice, "faults cleared")))
    }

    @Test func withoutAFaultLedTheStatusLedShowsFaults() {
        var core = AgentCore(hasFaultLed: false)
        let a = core.handle(.sample(sample(faulty: true)), now: Instant(nanoseconds: 1))
        #expect(a.contains(.showLed("status", .fault)))
        #expect(!a.contains { if case .showLed("fault", _) = $0 { true } else { false } })
    }

    @Test func shortPressIdentifiesForTenSeconds() {
        var core = AgentCore(hasFaultLed: true)
        let clock = ManualClock()
        let a = core.handle(.button(.short), now: clock.now)
        #expect(a.contains(.showLed("status", .identify)))
        #expect(core.nextDeadline == clock.now + .seconds(10))
        clock.advance(.seconds(9))
        #expect(core.handle(.tick, now: clock.now).isEmpty)
        clock.advance(.seconds(1))
        #expect(core.handle(.tick, now: clock.now).contains(.showLed("status", .heartbeat)))
        #expect(core.nextDeadline == nil)
    }

    @Test func veryLongPressPowersOffWithoutDraining() {
        var core = AgentCore(hasFaultLed: true)
        let a = core.handle(.button(.veryLong), now: Instant(nanoseconds: 1))
        #expect(a.contains(.powerOff(reason: "very long button press")))
        #expect(a.contains(.statusChanged(.sleeping)))
        #expect(!a.contains(.statusChanged(.draining)))
    }

    @Test func longPressDrainsThenASecondOneSleeps() {
        var core = AgentCore(hasFaultLed: true)
        let now = Instant(nanoseconds: 1)
        let a = core.handle(.button(.long), now: now)
        #expect(core.state == .draining)
        #expect(a.contains(.statusChanged(.draining)))
        #expect(a.contains(.showLed("status", .blink)))
        #expect(!a.contains { if case .powerOff = $0 { true } else { false } })
        let b = core.handle(.button(.long), now: now)
        #expect(core.state == .sleeping)
        #expect(b.contains(.statusChanged(.sleeping)))
        #expect(b.contains(.powerOff(reason: "long button press while draining")))
    }

    @Test func sleepCommandWaitsForTheGoAheadOrTheTimeout() {
        let clock = ManualClock()
        var core = AgentCore(hasFaultLed: true, drainTimeout: .seconds(60))
        #expect(core.handle(.sleepCommand("c1"), now: clock.now).contains(.statusChanged(.draining)))
        #expect(core.nextDeadline == clock.now + .seconds(60))
        // A fault while draining does not bring the node back to awake.
        clock.advance(.seconds(59))
        #expect(core.handle(.tick, now: clock.now).isEmpty)
        #expect(core.state == .draining)
        clock.advance(.seconds(1))
        let t = core.handle(.tick, now: clock.now)
        #expect(t.contains(.powerOff(reason: "drain timeout")))
        #expect(core.state == .sleeping)
        // Nothing more happens once sleeping.
        #expect(core.handle(.sleepCommand("c2"), now: clock.now).isEmpty)

        var other = AgentCore(hasFaultLed: true)
        _ = other.handle(.sleepCommand("c1"), now: clock.now)
        #expect(other.handle(.sleepCommand("c2"), now: clock.now).contains(.powerOff(reason: "sleep command c2 (go-ahead)")))
    }

    @Test func aFailedPowerOffReturnsToService() {
        let now = Instant(nanoseconds: 1)
        var core = AgentCore(hasFaultLed: true)
        // Ignored unless sleeping: a late failure report must not wake a draining node.
        #expect(core.handle(.powerOffFailed("x"), now: now).isEmpty)
        _ = core.handle(.button(.veryLong), now: now)
        let a = core.handle(.powerOffFailed("access denied"), now: now)
        #expect(core.state == .awake)
        #expect(a.contains(.statusChanged(.awake)))
        #expect(a.contains(.event("power-off-failed", [.init("error", "access denied")])))
        #expect(a.contains(.showLed("status", .heartbeat)))
        // And it can be asked to sleep again.
        #expect(core.handle(.sleepCommand("c3"), now: now).contains(.statusChanged(.draining)))
    }
}

@Suite struct AgentRunnerTests {
    @Test func runsOnTheSimBoardAndEndsSafe() throws {
        let proc = try FakeProc()
        let board = try BoardCatalog.load("sim")
        let clock = SystemClock()
        let devices = try NodeDevices(board: board, options: NodeDevices.Options(), clock: clock, logger: .silent, proc: proc.procFS)
        let chip = try #require(devices.gpioChip as? SimulatedGPIOChip)
        // Requested at their safe levels: poe1 (active-low, NC) powered = high, LEDs dark.
        #expect(chip.level("GPIO22") == true)
        #expect(chip.level("GPIO17") == false)
        #expect(chip.isRequested("GPIO26"))

        var samples: [Sample] = []
        let runner = AgentRunner(devices: devices, sampler: Sampler(devices: devices, node: "n", proc: proc.procFS, logger: .silent),
                                 interval: .milliseconds(150), clock: clock, logger: .silent) { samples.append($0) }
        runner.sampleLimit = 3
        // Cut the relay meanwhile: the exit must restore it.
        try devices.relay("poe1")?.cut(now: clock.now)
        #expect(chip.level("GPIO22") == false)
        try runner.run()

        #expect(samples.count == 3)
        // The status LED ran its heartbeat: it went high at least once.
        #expect(chip.history("GPIO17").contains { $0.level })
        // Safe state after the loop: relay powered, LEDs dark, every line released.
        #expect(chip.level("GPIO22") == true)
        #expect(chip.level("GPIO17") == false)
        #expect(chip.level("GPIO27") == false)
        for line in ["GPIO17", "GPIO22", "GPIO26", "GPIO27"] { #expect(!chip.isRequested(line), "\(line)") }
    }

    @Test func buttonPressThroughTheLoopStartsIdentify() throws {
        let proc = try FakeProc()
        let board = try BoardCatalog.load("sim")
        let clock = SystemClock()
        let devices = try NodeDevices(board: board, options: NodeDevices.Options(), clock: clock, logger: .silent, proc: proc.procFS)
        let chip = try #require(devices.gpioChip as? SimulatedGPIOChip)
        final class Lines: @unchecked Sendable { var all: [String] = [] } // one thread: the loop's
        let lines = Lines()
        let logger = Logger(label: "t", minimum: .debug) { lines.all.append($1) }
        let runner = AgentRunner(devices: devices, sampler: Sampler(devices: devices, node: "n", proc: proc.procFS, logger: logger),
                                 interval: .milliseconds(100), clock: clock, logger: logger)
        runner.sampleLimit = 5
        // A short press with bounce (active-low: press = low), driven before the loop
        // starts: the edges wait on the eventfd like kernel events would.
        let t = clock.now
        chip.drive("GPIO26", false, at: t)
        chip.drive("GPIO26", true, at: t + .milliseconds(1))
        chip.drive("GPIO26", false, at: t + .milliseconds(3))
        chip.drive("GPIO26", true, at: t + .milliseconds(200))
        try runner.run()
        #expect(lines.all.contains("t: button press: short"))
        #expect(lines.all.contains { $0.contains("led=status") && $0.contains("pattern=identify") })
    }
}
