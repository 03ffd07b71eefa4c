public import NexusDrivers
public import NexusWire
public import NexusHardware

/// The agent's rules as a state machine: inputs in, actions out, no I/O and no clock of
/// its own, so every rule is testable with a manual clock: health, the operator's button,
/// identify, and the sleep path (draining, the go-ahead or its timeout, power-off).
public struct AgentCore: Sendable {
    public enum State: String, Sendable {
        case awake, draining, sleeping, fault
    }

    public enum Input: Sendable {
        case sample(Sample)
        case button(ButtonPress)
        /// Show identify for a while (a command).
        case identify(Duration)
        /// A verified `sleep` command: the first starts draining, one while draining is the
        /// coordinator's go-ahead.
        case sleepCommand(String)
        /// The power-off path failed: the node is still up, so it must not claim to sleep.
        case powerOffFailed(String)
        case tick
    }

    public enum Action: Equatable, Sendable {
        case showLed(String, LedPattern)
        case log(Logger.Level, String)
        /// Power the node off now through the configured path.
        case powerOff(reason: String)
        /// Publish an `event` on the feed.
        case event(String, [EventPayload.EventField])
        /// The state changed: publish a fresh `status`.
        case statusChanged(State)
    }

    /// LED names the core drives; board files use them.
    public static let statusLed = "status"
    public static let faultLed = "fault"

    public private(set) var state: State = .awake
    public private(set) var faults: [String] = []
    public private(set) var identifyUntil: Instant?
    /// While draining: when the agent sleeps without a go-ahead.
    public private(set) var drainUntil: Instant?
    public let identifyDuration: Duration
    public let drainTimeout: Duration
    /// Whether the board has a separate fault LED; if not, the status LED shows faults.
    public let hasFaultLed: Bool

    public init(hasFaultLed: Bool, identifyDuration: Duration = .seconds(10), drainTimeout: Duration = .seconds(300)) {
        self.hasFaultLed = hasFaultLed
        self.identifyDuration = identifyDuration
        self.drainTimeout = drainTimeout
    }

    /// awake/fault → draining: say so (status, LED), then wait for the go-ahead or the timeout.
    mutating func startDraining(reason: String, now: Instant) -> [Action] {
        guard state == .awake || state == .fault else { return [] }
        state = .draining
        drainUntil = now + drainTimeout
        return [.log(.notice, "draining before sleep: \(reason)"), .event("draining", [.init("reason", reason)]),
                .statusChanged(.draining)] + leds(now: now)
    }

    /// draining → sleeping → power-off.
    mutating func sleepNow(reason: String, now: Instant) -> [Action] {
        guard state != .sleeping else { return [] }
        state = .sleeping
        drainUntil = nil
        return [.statusChanged(.sleeping)] + leds(now: now)
            + [.event("power-off", [.init("reason", reason)]), .powerOff(reason: reason)]
    }

    /// The LEDs for the state the agent starts in.
    public func initialActions() -> [Action] { leds(now: nil) }

    public mutating func handle(_ input: Input, now: Instant) -> [Action] {
        var actions: [Action] = []
        switch input {
        case .sample(let s):
            let newFaults = s.faults
            if newFaults != faults {
                if newFaults.isEmpty {
                    actions.append(.log(.notice, "faults cleared"))
                    actions.append(.event("fault-cleared", []))
                } else {
                    actions.append(.log(.warning, "fault: " + newFaults.joined(separator: "; ")))
                    actions.append(.event("fault", [.init("faults", newFaults.joined(separator: "; "))]))
                }
            }
            faults = newFaults
            let newState: State = faults.isEmpty ? .awake : .fault
            // Draining and sleeping are not left because of a sample.
            if newState != state, state == .awake || state == .fault {
                state = newState
                actions += leds(now: now)
                actions.append(.statusChanged(state))
            }
        case .button(let press):
            actions.append(.log(.notice, "button press: \(press.rawValue)"))
            actions.append(.event("button", [.init("press", press.rawValue)]))
            if press == .veryLong {
                // The chassis convention: holding the button forces power-off, drain or not.
                actions += sleepNow(reason: "very long button press", now: now)
            } else if press == .long {
                actions += state == .draining ? sleepNow(reason: "long button press while draining", now: now)
                                              : startDraining(reason: "long button press", now: now)
            } else if press == .short {
                // A short press toggles identify, so an admin can find this node in a rack.
                identifyUntil = identifyUntil == nil ? now + identifyDuration : nil
                actions += leds(now: now)
            }
        case .sleepCommand(let id):
            actions += state == .draining ? sleepNow(reason: "sleep command \(id) (go-ahead)", now: now)
                                          : startDraining(reason: "sleep command \(id)", now: now)
        case .identify(let d):
            identifyUntil = now + d
            actions += leds(now: now)
        case .powerOffFailed(let why):
            guard state == .sleeping else { break }
            state = faults.isEmpty ? .awake : .fault
            actions.append(.log(.error, "power-off failed; staying up as \(state.rawValue): \(why)"))
            actions.append(.event("power-off-failed", [.init("error", why)]))
            actions.append(.statusChanged(state))
            actions += leds(now: now)
        case .tick:
            if let until = drainUntil, now >= until {
                actions += sleepNow(reason: "drain timeout", now: now)
            }
            if let until = identifyUntil, now >= until {
                identifyUntil = nil
                actions += leds(now: now)
            }
        }
        return actions
    }

    /// When the core next needs a `.tick`.
    public var nextDeadline: Instant? {
        [identifyUntil, drainUntil].compactMap { $0 }.min()
    }

    /// The LED actions for the current state, e.g. to re-apply after GPIO came back.
    public func ledActions() -> [Action] { leds(now: nil) }

    func leds(now: Instant?) -> [Action] {
        var status: LedPattern = state == .fault && !hasFaultLed ? .fault : .heartbeat
        if state == .draining { status = .blink }
        if state == .sleeping { status = .off }
        if identifyUntil != nil { status = .identify }
        var out: [Action] = [.showLed(Self.statusLed, status)]
        if hasFaultLed { out.append(.showLed(Self.faultLed, state == .fault ? .fault : .off)) }
        return out
    }
}
