/// How an output drives its line.
public enum GPIODrive: String, Sendable, CaseIterable {
    case pushPull = "push-pull", openDrain = "open-drain", openSource = "open-source"
}

/// The bias an input asks for.
public enum GPIOBias: String, Sendable, CaseIterable {
    case asIs = "as-is", disabled, pullUp = "pull-up", pullDown = "pull-down"
}

public enum GPIOEdge: String, Sendable {
    case none, rising, falling, both
}

/// A line chosen by name (`GPIO17`, as Pi device trees name them) or by offset on its chip.
public enum GPIOLineSelector: Hashable, Sendable, CustomStringConvertible {
    case name(String)
    case offset(UInt32)

    public var description: String {
        switch self {
        case .name(let n): n
        case .offset(let o): "offset \(o)"
        }
    }
}

/// An edge seen on an input, with the kernel's monotonic timestamp.
public struct GPIOEdgeEvent: Equatable, Sendable {
    public var rising: Bool
    public var timestamp: Instant
    public init(rising: Bool, timestamp: Instant) {
        self.rising = rising
        self.timestamp = timestamp
    }
}

public struct GPIOLineInfo: Equatable, Sendable {
    public var offset: UInt32
    public var name: String
    public var consumer: String
    public var used: Bool
    /// As the kernel has the line configured (an unused line's last configuration).
    public var output: Bool
    public var drive: GPIODrive
    public init(offset: UInt32, name: String, consumer: String, used: Bool, output: Bool = false, drive: GPIODrive = .pushPull) {
        self.offset = offset
        self.name = name
        self.consumer = consumer
        self.used = used
        self.output = output
        self.drive = drive
    }
}

/// An output line held by this process. Levels are physical (true = high); polarity
/// belongs to the driver that knows what is wired to the line.
public protocol GPIOOutputLine: AnyObject {
    var lineName: String { get }
    func set(_ high: Bool) throws(HardwareError)
    func get() throws(HardwareError) -> Bool
}

/// An input line held by this process, with edge events on a pollable descriptor.
public protocol GPIOInputLine: AnyObject {
    var lineName: String { get }
    func get() throws(HardwareError) -> Bool
    /// Becomes readable when an edge event is pending.
    var eventDescriptor: CInt { get }
    /// Reads one pending edge; call after poll reported the descriptor readable.
    func readEvent() throws(HardwareError) -> GPIOEdgeEvent
}

/// A GPIO chip: the real character device or a simulated one.
public protocol GPIOChipAccess: AnyObject {
    var chipName: String { get }
    var label: String { get }
    func lines() throws(HardwareError) -> [GPIOLineInfo]
    /// Requests an output that starts at `initial`. With `crashLevel`, the level is also
    /// written if the process dies of a fatal signal.
    func requestOutput(_ line: GPIOLineSelector, consumer: String, initial: Bool, drive: GPIODrive,
                       crashLevel: Bool?) throws(HardwareError) -> any GPIOOutputLine
    func requestInput(_ line: GPIOLineSelector, consumer: String, bias: GPIOBias,
                      edge: GPIOEdge) throws(HardwareError) -> any GPIOInputLine
}
