public import NexusHardware

/// An output wired to a neighbour's wake input (GPIO3 of a halted Pi 3/4, the Pi 5's
/// power-button pads). Released (high, which open-drain leaves to the neighbour's pull-up)
/// is the safe state: the line is requested there, returned there on exit, and the crash
/// guard writes it there if the agent dies. A pulse pulls it low for `pulse`.
public final class WakeLine {
    public let target: String
    public let pulse: Duration
    public private(set) var pulsingUntil: Instant?
    private let line: any GPIOOutputLine

    public init(target: String, line: any GPIOOutputLine, pulse: Duration) {
        self.target = target
        self.line = line
        self.pulse = pulse
    }

    public var lineName: String { line.lineName }

    /// Pulls the line low; returns when `release` is due. A pulse already running is not
    /// stretched: a second request while low is refused.
    public func start(now: Instant) throws(WakeLineError) -> Instant {
        if let until = pulsingUntil, now < until { throw .busy(target: target, remaining: until.since(now)) }
        do { try line.set(false) } catch { throw .hardware(error) }
        let until = now + pulse
        pulsingUntil = until
        return until
    }

    /// Lets the line go high again (the end of a pulse, and the safe state).
    public func release() throws(HardwareError) {
        pulsingUntil = nil
        try line.set(true)
    }
}

public enum WakeLineError: Error, Equatable, Sendable, CustomStringConvertible {
    case busy(target: String, remaining: Duration)
    case hardware(HardwareError)

    public var description: String {
        switch self {
        case .busy(let t, let r): "wake line for \(t) is already pulsing; \(r.milliseconds) ms left"
        case .hardware(let e): "wake line: \(e)"
        }
    }
}
