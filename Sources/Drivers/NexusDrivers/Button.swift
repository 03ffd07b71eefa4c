public import NexusHardware

public enum ButtonPress: String, Sendable {
    case short, long, veryLong = "very-long"
}

public struct ButtonSettings: Equatable, Sendable {
    public var activeLow: Bool = true
    /// The level must hold this long before a change counts.
    public var debounce: Duration = .milliseconds(30)
    public var long: Duration = .seconds(2)
    public var veryLong: Duration = .seconds(8)
    public init() {}
    public init(activeLow: Bool, debounce: Duration, long: Duration, veryLong: Duration) {
        self.activeLow = activeLow
        self.debounce = debounce
        self.long = long
        self.veryLong = veryLong
    }
}

/// Software debounce and press classification over edge events. Pure logic on the
/// kernel's edge timestamps, so a loop that reads several queued edges late still
/// classifies them as they happened: the caller feeds edges and calls `settle` when
/// `settleDeadline` passes.
public struct ButtonClassifier: Sendable {
    public let settings: ButtonSettings
    /// The debounced state.
    public private(set) var pressed = false
    private var rawPressed = false
    private var lastEdge: Instant?
    private var pressStart: Instant?
    /// When the latest bounce train started (the time its first edge arrived).
    private var trainStart: Instant?

    public init(settings: ButtonSettings) { self.settings = settings }

    /// Records an edge. If the previous level had already held for the debounce time
    /// when this edge came, that level is settled first, which may complete a press.
    public mutating func edge(_ e: GPIOEdgeEvent) -> ButtonPress? {
        var press: ButtonPress?
        if let last = lastEdge, trainStart != nil, e.timestamp.since(last) >= settings.debounce {
            press = settle(now: last + settings.debounce)
        }
        if trainStart == nil { trainStart = e.timestamp }
        rawPressed = e.rising != settings.activeLow
        lastEdge = e.timestamp
        return press
    }

    /// When a pending bounce train will have settled, if one is pending.
    public var settleDeadline: Instant? { trainStart == nil ? nil : lastEdge.map { $0 + settings.debounce } }

    /// Applies a settled level change; returns a press when a release completes one.
    public mutating func settle(now: Instant) -> ButtonPress? {
        guard let lastEdge, let start = trainStart, now.since(lastEdge) >= settings.debounce else { return nil }
        trainStart = nil
        guard rawPressed != pressed else { return nil }
        pressed = rawPressed
        if pressed {
            pressStart = start
            return nil
        }
        guard let pressStart else { return nil }
        self.pressStart = nil
        return classify(held: start.since(pressStart))
    }

    public func classify(held: Duration) -> ButtonPress {
        held >= settings.veryLong ? .veryLong : held >= settings.long ? .long : .short
    }

    /// How long the button has been held (debounced), if it is.
    public func heldFor(now: Instant) -> Duration? {
        pressed ? pressStart.map { now.since($0) } : nil
    }
}
