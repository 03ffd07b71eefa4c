public import NexusHardware

/// What a status LED shows. Each pattern is a repeating list of (lit, duration) steps.
public enum LedPattern: String, Sendable, CaseIterable {
    case off, on, blink, heartbeat, fault, identify
}

/// Step timings per pattern, configurable from the board or config file.
public struct LedTimings: Equatable, Sendable {
    public var blinkOn: Duration = .milliseconds(500)
    public var blinkOff: Duration = .milliseconds(500)
    /// Two short beats then a rest, like a pulse.
    public var heartbeatBeat: Duration = .milliseconds(100)
    public var heartbeatRest: Duration = .milliseconds(700)
    public var faultOn: Duration = .milliseconds(100)
    public var faultOff: Duration = .milliseconds(100)
    /// Three quick flashes then a pause, distinct from every other pattern at a glance.
    public var identifyFlash: Duration = .milliseconds(150)
    public var identifyPause: Duration = .milliseconds(1000)

    public init() {}

    public func steps(_ p: LedPattern) -> [(lit: Bool, duration: Duration)] {
        switch p {
        case .off: [(false, .zero)]
        case .on: [(true, .zero)]
        case .blink: [(true, blinkOn), (false, blinkOff)]
        case .heartbeat: [(true, heartbeatBeat), (false, heartbeatBeat), (true, heartbeatBeat), (false, heartbeatRest)]
        case .fault: [(true, faultOn), (false, faultOff)]
        case .identify: [(true, identifyFlash), (false, identifyFlash), (true, identifyFlash), (false, identifyFlash),
                         (true, identifyFlash), (false, identifyPause)]
        }
    }

    /// Whether the LED is lit `elapsed` into the pattern, and how long until that changes
    /// (nil: never, for steady patterns).
    public func level(_ p: LedPattern, elapsed: Duration) -> (lit: Bool, untilChange: Duration?) {
        let steps = steps(p)
        let cycle = steps.reduce(Duration.zero) { $0 + $1.duration }
        guard cycle > .zero else { return (steps[0].lit, nil) }
        let cycleNs = cycle.nanosecondsClamped
        var t = elapsed.nanosecondsClamped % cycleNs
        for step in steps {
            let d = step.duration.nanosecondsClamped
            if t < d { return (step.lit, .nanoseconds(d - t)) }
            t -= d
        }
        return (steps[0].lit, .nanoseconds(steps[0].duration.nanosecondsClamped))
    }
}

/// A status LED on a GPIO line. Off is its safe state: it starts and ends dark.
public final class Led {
    public let name: String
    public let activeLow: Bool
    public let timings: LedTimings
    public private(set) var pattern: LedPattern = .off
    public private(set) var lit = false
    private let line: any GPIOOutputLine
    private var started: Instant

    /// The line must have been requested at the LED's dark level (`darkLevel(activeLow:)`).
    public init(name: String, line: any GPIOOutputLine, activeLow: Bool, timings: LedTimings, now: Instant) {
        self.name = name
        self.line = line
        self.activeLow = activeLow
        self.timings = timings
        self.started = now
    }

    public static func darkLevel(activeLow: Bool) -> Bool { activeLow }

    /// Switches pattern; the new one starts from its first step now.
    public func show(_ p: LedPattern, now: Instant) throws(HardwareError) -> Instant? {
        pattern = p
        started = now
        return try update(now: now)
    }

    /// Sets the line for `now`; returns when the next change is due.
    @discardableResult
    public func update(now: Instant) throws(HardwareError) -> Instant? {
        let (on, until) = timings.level(pattern, elapsed: now.since(started))
        if on != lit || pattern == .off {
            try line.set(on != activeLow)
            lit = on
        }
        return until.map { now + $0 }
    }

    /// Dark, whatever the pattern.
    public func turnOff() throws(HardwareError) {
        pattern = .off
        try line.set(activeLow)
        lit = false
    }
}
