import Testing
import NexusHardware
import NexusSimulation
@testable import NexusDrivers

@Suite struct LedTests {
    @Test func heartbeatTimingOnTheLine() throws {
        let clock = ManualClock()
        let chip = SimulatedGPIOChip(lineNames: ["GPIO17"], clock: clock)
        let line = try chip.requestOutput(.name("GPIO17"), consumer: "t", initial: Led.darkLevel(activeLow: false),
                                          drive: .pushPull, crashLevel: nil)
        let led = Led(name: "status", line: line, activeLow: false, timings: LedTimings(), now: clock.now)
        #expect(chip.level("GPIO17") == false)
        var next = try led.show(.heartbeat, now: clock.now)
        var levels: [Bool] = []
        var times: [Duration] = []
        let start = clock.now
        for _ in 0..<8 {
            levels.append(chip.level("GPIO17")!)
            times.append(clock.now.since(start))
            guard let n = next else { break }
            clock.advance(n.since(clock.now))
            next = try led.update(now: clock.now)
        }
        #expect(levels == [true, false, true, false, true, false, true, false])
        #expect(times.map(\.milliseconds) == [0, 100, 200, 300, 1000, 1100, 1200, 1300])
        try led.turnOff()
        #expect(chip.level("GPIO17") == false)
    }

    @Test func activeLowInvertsTheLine() throws {
        let clock = ManualClock()
        let chip = SimulatedGPIOChip(lineNames: ["GPIO5"], clock: clock)
        let line = try chip.requestOutput(.name("GPIO5"), consumer: "t", initial: Led.darkLevel(activeLow: true),
                                          drive: .pushPull, crashLevel: nil)
        #expect(chip.level("GPIO5") == true) // dark = high for an active-low LED
        let led = Led(name: "x", line: line, activeLow: true, timings: LedTimings(), now: clock.now)
        #expect(try led.show(.on, now: clock.now) == nil)
        #expect(chip.level("GPIO5") == false)
        _ = try led.show(.off, now: clock.now)
        #expect(chip.level("GPIO5") == true)
    }

    @Test(arguments: LedPattern.allCases)
    func everyPatternHasConsistentSteps(_ p: LedPattern) {
        let t = LedTimings()
        let (lit0, until0) = t.level(p, elapsed: .zero)
        switch p {
        case .off: #expect(!lit0 && until0 == nil)
        case .on: #expect(lit0 && until0 == nil)
        default:
            #expect(lit0)
            // The pattern repeats: one full cycle later it is in the same step.
            let cycle = t.steps(p).reduce(Duration.zero) { $0 + $1.duration }
            #expect(t.level(p, elapsed: cycle + .milliseconds(1)).lit == t.level(p, elapsed: .milliseconds(1)).lit)
        }
    }
}

@Suite struct RelayTests {
    func make(_ s: RelaySettings) throws -> (ManualClock, SimulatedGPIOChip, Relay) {
        let clock = ManualClock()
        let chip = SimulatedGPIOChip(lineNames: ["GPIO22"], clock: clock)
        let safe = s.level(powered: true)
        let line = try chip.requestOutput(.name("GPIO22"), consumer: "t", initial: safe, drive: .pushPull, crashLevel: safe)
        return (clock, chip, Relay(settings: s, line: line))
    }

    @Test(arguments: [
        (false, RelayWiring.normallyClosed, false, true),  // NC, active-high: powered = coil off = low
        (true, .normallyClosed, true, false),              // NC, active-low: powered = coil off = high
        (false, .normallyOpen, true, false),               // NO, active-high: powered = coil on = high
        (true, .normallyOpen, false, true),
    ])
    func lineLevels(activeLow: Bool, wiring: RelayWiring, poweredLevel: Bool, cutLevel: Bool) {
        let s = RelaySettings(name: "r", activeLow: activeLow, wiring: wiring)
        #expect(s.level(powered: true) == poweredLevel)
        #expect(s.level(powered: false) == cutLevel)
    }

    @Test func minimumOffTimeIsEnforced() throws {
        let (clock, chip, relay) = try make(RelaySettings(name: "poe1", activeLow: true, minimumOffTime: .seconds(5)))
        #expect(chip.level("GPIO22") == true)
        try relay.cut(now: clock.now)
        #expect(chip.level("GPIO22") == false)
        #expect(!relay.powered)
        clock.advance(.seconds(3))
        #expect(throws: RelayError.offTimeNotElapsed(channel: "poe1", remaining: .seconds(2))) {
            try relay.restore(now: clock.now)
        }
        #expect(chip.level("GPIO22") == false)
        clock.advance(.seconds(2))
        try relay.restore(now: clock.now)
        #expect(chip.level("GPIO22") == true)
    }

    @Test func cyclingIsRateLimited() throws {
        let (clock, _, relay) = try make(RelaySettings(name: "poe1", minimumOffTime: .seconds(1), maximumCycles: 2, cycleWindow: .seconds(60)))
        for _ in 0..<2 {
            try relay.cut(now: clock.now)
            clock.advance(.seconds(1))
            try relay.restore(now: clock.now)
            clock.advance(.seconds(1))
        }
        // Two cuts at t=0 and t=2: the third is refused until t=60.
        #expect(throws: RelayError.rateLimited(channel: "poe1", cycles: 2, window: .seconds(60), retryAfter: .seconds(56))) {
            try relay.cut(now: clock.now)
        }
        #expect(relay.powered)
        clock.advance(.seconds(56))
        try relay.cut(now: clock.now)
        #expect(!relay.powered)
    }

    @Test func safeStateIgnoresOffTime() throws {
        let (clock, chip, relay) = try make(RelaySettings(name: "poe1", minimumOffTime: .seconds(30)))
        try relay.cut(now: clock.now)
        try relay.returnToSafeState()
        #expect(relay.powered)
        #expect(chip.level("GPIO22") == false) // active-high NC: powered = low
    }
}

@Suite struct ButtonTests {
    let ms = { (n: Int) in Instant(nanoseconds: 1_000_000_000 + UInt64(n) * 1_000_000) }

    /// Feeds edges at the given millisecond times, settling whenever a deadline passes
    /// before the next edge if `timely`; otherwise all edges arrive late, in one batch.
    func run(_ edges: [(Int, Bool)], until end: Int, settings: ButtonSettings = ButtonSettings(), timely: Bool = true) -> [ButtonPress] {
        var c = ButtonClassifier(settings: settings)
        var presses: [ButtonPress] = []
        for (t, rising) in edges {
            if timely, let d = c.settleDeadline, d <= ms(t), let p = c.settle(now: d) { presses.append(p) }
            if let p = c.edge(GPIOEdgeEvent(rising: rising, timestamp: ms(t))) { presses.append(p) }
        }
        if let d = c.settleDeadline, d <= ms(end), let p = c.settle(now: d) { presses.append(p) }
        return presses
    }

    /// A press with a bounce train of `bounces` edges in 5 ms at each end.
    func press(at start: Int, holdMs: Int, bounces: Int = 0) -> [(Int, Bool)] {
        var e: [(Int, Bool)] = [(start, false)]
        for i in 0..<bounces { e.append((start + 1 + i, i % 2 == 0)) }
        if bounces % 2 == 1 { e.append((start + 5, false)) }
        let up = start + holdMs
        e.append((up, true))
        for i in 0..<bounces { e.append((up + 1 + i, i % 2 != 0)) }
        if bounces % 2 == 1 { e.append((up + 5, true)) }
        return e
    }

    @Test func bounceTrainCountsOnce() {
        // 5 ms of chatter on press and on release: one short press.
        let edges = press(at: 0, holdMs: 300, bounces: 4)
        #expect(edges.count == 10)
        #expect(run(edges, until: 1000) == [.short])
    }

    @Test func classification() {
        #expect(run(press(at: 0, holdMs: 500), until: 2000) == [.short])
        #expect(run(press(at: 0, holdMs: 2500, bounces: 3), until: 5000) == [.long])
        #expect(run(press(at: 0, holdMs: 9000, bounces: 2), until: 12000) == [.veryLong])
    }

    @Test func glitchShorterThanDebounceIsIgnored() {
        // A 10 ms spike with a 30 ms debounce never settles into a press.
        #expect(run([(0, false), (10, true)], until: 500).isEmpty)
    }

    @Test func twoPressesInARow() {
        let edges = press(at: 0, holdMs: 200, bounces: 2) + press(at: 1000, holdMs: 3000, bounces: 2)
        #expect(run(edges, until: 6000) == [.short, .long])
    }

    @Test func edgesReadLateStillClassify() {
        // A busy loop reads a whole bounced press at once: the timestamps decide.
        let edges = press(at: 0, holdMs: 300, bounces: 4) + press(at: 1000, holdMs: 2500, bounces: 2)
        #expect(run(edges, until: 5000, timely: false) == [.short, .long])
    }

    @Test func activeHighButton() {
        let s = ButtonSettings(activeLow: false, debounce: .milliseconds(20), long: .seconds(1), veryLong: .seconds(3))
        #expect(run([(0, true), (1500, false)], until: 2000, settings: s) == [.long])
    }
}

@Suite struct WakeLineTests {
    @Test func pulsesLowThenReleasesAndRefusesOverlap() throws {
        let clock = ManualClock()
        let chip = SimulatedGPIOChip(lineNames: ["GPIO5"], clock: clock)
        let line = try chip.requestOutput(.name("GPIO5"), consumer: "t", initial: true, drive: .openDrain, crashLevel: true)
        let w = WakeLine(target: "pi-2", line: line, pulse: .milliseconds(200))
        #expect(chip.level("GPIO5") == true)
        let until = try w.start(now: clock.now)
        #expect(until == clock.now + .milliseconds(200))
        #expect(chip.level("GPIO5") == false)
        clock.advance(.milliseconds(50))
        #expect(throws: WakeLineError.busy(target: "pi-2", remaining: .milliseconds(150))) { _ = try w.start(now: clock.now) }
        clock.advance(.milliseconds(150))
        try w.release()
        #expect(chip.level("GPIO5") == true)
        #expect(w.pulsingUntil == nil)
        // One low stretch of exactly the pulse, between two highs.
        let h = chip.history("GPIO5").map(\.level)
        #expect(h == [true, false, true])
        _ = try w.start(now: clock.now)
        #expect(chip.level("GPIO5") == false)
    }
}
