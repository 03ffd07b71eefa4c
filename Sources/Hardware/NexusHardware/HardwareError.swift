/// A failed hardware operation with everything needed to act on it: what was tried,
/// on which device, at which address, register or line, and the kernel's answer.
public struct HardwareError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Operation: String, Sendable {
        case open, setAddress = "select address", queryFunctions = "query adapter functions"
        case readWord = "read word", writeWord = "write word"
        case findChip = "find GPIO chip", findLine = "find GPIO line", lineInfo = "read line info"
        case requestLine = "request line", getValue = "get value", setValue = "set value"
        case readEvent = "read edge event"
        case sensorsInit = "initialise libsensors", sensorsRead = "read sensor"
        case read, poll, timer = "arm timer", signal = "block signals"
        case send = "send", wakeOnLANState = "read Wake-on-LAN state (ETHTOOL_GWOL)"
        case powerOff = "power off"
    }

    public var operation: Operation
    public var device: String
    public var address: UInt8?
    public var register: UInt8?
    public var line: String?
    public var errno: Errno
    /// Extra words for the reader, such as "owned by the kernel's ina2xx driver".
    public var hint: String?

    public init(_ operation: Operation, device: String, address: UInt8? = nil, register: UInt8? = nil,
                line: String? = nil, errno: Errno, hint: String? = nil) {
        self.operation = operation
        self.device = device
        self.address = address
        self.register = register
        self.line = line
        self.errno = errno
        self.hint = hint
    }

    public var description: String {
        var s = "\(operation.rawValue) failed on \(device)"
        if let address { s += " address 0x\(hex(address))" }
        if let register { s += " register 0x\(hex(register))" }
        if let line { s += " line \(line)" }
        s += ": \(errno)"
        if let hint { s += "; \(hint)" }
        return s
    }
}

/// Two-digit lower-case hex, for addresses and registers in messages.
public func hex(_ value: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(value >> 4)], digits[Int(value & 0xF)]])
}

/// Four-digit hex for 16-bit register values.
public func hex(_ value: UInt16) -> String {
    hex(UInt8(value >> 8)) + hex(UInt8(value & 0xFF))
}
