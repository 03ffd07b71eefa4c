public import NexusHardware

/// Which contact the node's power runs through.
public enum RelayWiring: String, Sendable {
    /// Power flows while the coil is de-energised: a released or dead line leaves the
    /// node powered. The fail-safe default.
    case normallyClosed = "normally-closed"
    /// Power flows only while the coil is energised.
    case normallyOpen = "normally-open"
}

public struct RelaySettings: Equatable, Sendable {
    public var name: String
    /// The relay module's input energises the coil on a low level.
    public var activeLow: Bool
    public var wiring: RelayWiring
    /// After cutting power, how long it stays cut before it may be restored.
    public var minimumOffTime: Duration
    /// At most this many power cuts per `cycleWindow`.
    public var maximumCycles: Int
    public var cycleWindow: Duration

    public init(name: String, activeLow: Bool = false, wiring: RelayWiring = .normallyClosed,
                minimumOffTime: Duration = .seconds(5), maximumCycles: Int = 4, cycleWindow: Duration = .seconds(3600)) {
        self.name = name
        self.activeLow = activeLow
        self.wiring = wiring
        self.minimumOffTime = minimumOffTime
        self.maximumCycles = maximumCycles
        self.cycleWindow = cycleWindow
    }

    /// The physical line level that gives `powered`.
    public func level(powered: Bool) -> Bool {
        let energised = wiring == .normallyClosed ? !powered : powered
        return energised != activeLow
    }
}

public enum RelayError: Error, Equatable, Sendable, CustomStringConvertible {
    case offTimeNotElapsed(channel: String, remaining: Duration)
    case rateLimited(channel: String, cycles: Int, window: Duration, retryAfter: Duration)
    case hardware(HardwareError)

    public var description: String {
        switch self {
        case .offTimeNotElapsed(let c, let r):
            "relay \(c): power was cut less than its minimum off-time ago; retry in \(r.milliseconds) ms"
        case .rateLimited(let c, let n, let w, let r):
            "relay \(c): already cut \(n) times in the last \(w.milliseconds / 1000) s; retry in \(r.milliseconds / 1000) s"
        case .hardware(let e): "relay: \(e)"
        }
    }
}

/// A PoE or power relay channel. Powered is the fail-safe state: the line is requested
/// at it, returned to it on exit, and written by the crash guard if the agent dies.
public final class Relay {
    public let settings: RelaySettings
    public private(set) var powered = true
    public private(set) var lastCut: Instant?
    private var cuts: [Instant] = []
    private let line: any GPIOOutputLine

    public init(settings: RelaySettings, line: any GPIOOutputLine) {
        self.settings = settings
        self.line = line
    }

    public var name: String { settings.name }

    /// Cuts power, if the rate limit allows.
    public func cut(now: Instant) throws(RelayError) {
        guard powered else { return }
        cuts.removeAll { now.since($0) >= settings.cycleWindow }
        if cuts.count >= settings.maximumCycles, let oldest = cuts.first {
            throw .rateLimited(channel: name, cycles: cuts.count, window: settings.cycleWindow,
                               retryAfter: settings.cycleWindow - now.since(oldest))
        }
        do { try line.set(settings.level(powered: false)) } catch { throw .hardware(error) }
        powered = false
        lastCut = now
        cuts.append(now)
    }

    /// Restores power, once the minimum off-time has passed.
    public func restore(now: Instant) throws(RelayError) {
        guard !powered else { return }
        if let lastCut, now.since(lastCut) < settings.minimumOffTime {
            throw .offTimeNotElapsed(channel: name, remaining: settings.minimumOffTime - now.since(lastCut))
        }
        do { try line.set(settings.level(powered: true)) } catch { throw .hardware(error) }
        powered = true
    }

    /// The safe state, unconditionally: used on exit. Rate limits do not apply to it.
    public func returnToSafeState() throws(HardwareError) {
        try line.set(settings.level(powered: true))
        powered = true
    }
}
