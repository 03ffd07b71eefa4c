public import NexusHardware

/// A GPIO chip in memory with named lines. Outputs keep their level history; inputs can
/// be driven (`drive`), which queues edge events on an eventfd the event loop can poll.
public final class SimulatedGPIOChip: GPIOChipAccess {
    public let chipName: String
    public let label: String
    public let lineNames: [String]
    private let clock: any MonotonicClock

    final class Line {
        var level = false
        var requested = false
        var consumer = ""
        var output = false
        var drive = GPIODrive.pushPull
        var history: [(at: Instant, level: Bool)] = []
        var edges: [GPIOEdgeEvent] = []
        var edge: GPIOEdge = .none
        var notifier: EventNotifier?
    }

    private var state: [Line]

    public init(label: String = "nexus-sim", lineNames: [String], clock: any MonotonicClock) {
        chipName = "gpiochip-sim"
        self.label = label
        self.lineNames = lineNames
        self.clock = clock
        state = lineNames.map { _ in Line() }
    }

    func index(_ sel: GPIOLineSelector) throws(HardwareError) -> Int {
        switch sel {
        case .name(let n):
            guard let i = lineNames.firstIndex(of: n) else {
                throw HardwareError(.findLine, device: chipName, line: n, errno: .noEntry,
                                    hint: "the simulated chip has: " + lineNames.joined(separator: ", "))
            }
            return i
        case .offset(let o):
            guard Int(o) < state.count else {
                throw HardwareError(.findLine, device: chipName, line: sel.description, errno: .invalidArgument)
            }
            return Int(o)
        }
    }

    public func lines() throws(HardwareError) -> [GPIOLineInfo] {
        state.enumerated().map {
            GPIOLineInfo(offset: UInt32($0.offset), name: lineNames[$0.offset], consumer: $0.element.consumer,
                         used: $0.element.requested, output: $0.element.output, drive: $0.element.drive)
        }
    }

    func claim(_ sel: GPIOLineSelector, consumer: String) throws(HardwareError) -> Line {
        let line = state[try index(sel)]
        guard !line.requested else {
            throw HardwareError(.requestLine, device: chipName, line: sel.description, errno: .busy,
                                hint: "held by \(line.consumer)")
        }
        line.requested = true
        line.consumer = consumer
        return line
    }

    public func requestOutput(_ sel: GPIOLineSelector, consumer: String, initial: Bool, drive: GPIODrive,
                              crashLevel: Bool?) throws(HardwareError) -> any GPIOOutputLine {
        let line = try claim(sel, consumer: consumer)
        line.output = true
        line.drive = drive
        line.level = initial
        line.history.append((clock.now, initial))
        return Output(line: line, name: sel.description, clock: clock)
    }

    public func requestInput(_ sel: GPIOLineSelector, consumer: String, bias: GPIOBias,
                             edge: GPIOEdge) throws(HardwareError) -> any GPIOInputLine {
        let line = try claim(sel, consumer: consumer)
        if bias == .pullUp { line.level = true }
        if bias == .pullDown { line.level = false }
        line.edge = edge
        line.notifier = EventNotifier()
        return Input(line: line, name: sel.description)
    }

    /// The current physical level of a line (what a meter on the pin would show).
    public func level(_ name: String) -> Bool? {
        lineNames.firstIndex(of: name).map { state[$0].level }
    }

    public func history(_ name: String) -> [(at: Instant, level: Bool)] {
        lineNames.firstIndex(of: name).map { state[$0].history } ?? []
    }

    public func isRequested(_ name: String) -> Bool {
        lineNames.firstIndex(of: name).map { state[$0].requested } ?? false
    }

    /// Drives an input from outside, at `at` (default: now), queuing an edge if it changes.
    public func drive(_ name: String, _ level: Bool, at: Instant? = nil) {
        guard let i = lineNames.firstIndex(of: name) else { return }
        let line = state[i]
        guard line.level != level else { return }
        line.level = level
        let t = at ?? clock.now
        line.history.append((t, level))
        let wanted = line.edge == .both || (line.edge == .rising && level) || (line.edge == .falling && !level)
        if line.requested, wanted {
            line.edges.append(GPIOEdgeEvent(rising: level, timestamp: t))
            line.notifier?.signal()
        }
    }

    final class Output: GPIOOutputLine {
        let line: Line
        let lineName: String
        let clock: any MonotonicClock
        init(line: Line, name: String, clock: any MonotonicClock) {
            self.line = line
            self.lineName = name
            self.clock = clock
        }
        deinit {
            line.requested = false
            line.consumer = ""
        }
        func set(_ high: Bool) throws(HardwareError) {
            if high != line.level { line.history.append((clock.now, high)) }
            line.level = high
        }
        func get() throws(HardwareError) -> Bool { line.level }
    }

    final class Input: GPIOInputLine {
        let line: Line
        let lineName: String
        init(line: Line, name: String) {
            self.line = line
            self.lineName = name
        }
        deinit {
            line.requested = false
            line.consumer = ""
            line.notifier = nil
        }
        func get() throws(HardwareError) -> Bool { line.level }
        var eventDescriptor: CInt { line.notifier?.fd ?? -1 }
        func readEvent() throws(HardwareError) -> GPIOEdgeEvent {
            guard !line.edges.isEmpty else {
                throw HardwareError(.readEvent, device: "gpiochip-sim", line: lineName, errno: .wouldBlock)
            }
            let e = line.edges.removeFirst()
            if line.edges.isEmpty { line.notifier?.drain() }
            return e
        }
    }
}
