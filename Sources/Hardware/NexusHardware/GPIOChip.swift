#if canImport(Glibc)
internal import Glibc
#endif
internal import CGpiod

/// A GPIO character device (`/dev/gpiochipN`) through libgpiod.
public final class GPIOChip: GPIOChipAccess {
    public let chipName: String
    public let label: String
    private let chip: OpaquePointer

    /// 1 or 2: the libgpiod API this build was compiled against.
    public static var libgpiodAPI: Int { Int(nexus_gpio_api_version()) }

    public init(path: String) throws(HardwareError) {
        var error: CInt = 0
        guard let chip = nexus_gpio_chip_open(path, &error) else {
            let e = Errno(rawValue: error)
            throw HardwareError(.open, device: path, errno: e,
                                hint: e == .accessDenied || e == .notPermitted
                                    ? "the agent's user needs the gpio group (or a udev rule) for \(path)" : nil)
        }
        self.chip = chip
        self.chipName = Self.string { nexus_gpio_chip_name(chip, $0, $1) }
        self.label = Self.string { nexus_gpio_chip_label(chip, $0, $1) }
    }

    deinit { nexus_gpio_chip_close(chip) }

    /// Paths of every GPIO character device, in numeric order.
    public static func chipPaths(devDirectory: String = "/dev") -> [String] {
        directoryEntries(devDirectory)
            .compactMap { $0.hasPrefix("gpiochip") ? Int($0.dropFirst(8)) : nil }
            .sorted()
            .map { "\(devDirectory)/gpiochip\($0)" }
    }

    /// Finds a chip by its label (`pinctrl-bcm2711`, `pinctrl-rp1`, `gpio-sim.0-node0`):
    /// chip numbers change across models and kernels, labels do not.
    public static func open(label: String, devDirectory: String = "/dev") throws(HardwareError) -> GPIOChip {
        var seen: [String] = []
        var lastError: HardwareError?
        for path in chipPaths(devDirectory: devDirectory) {
            do {
                let chip = try GPIOChip(path: path)
                if chip.label == label { return chip }
                seen.append("\(chip.chipName) [\(chip.label)]")
            } catch {
                lastError = error
            }
        }
        if let lastError, seen.isEmpty { throw lastError }
        throw HardwareError(.findChip, device: label, errno: .noEntry,
                            hint: seen.isEmpty ? "no GPIO chips under \(devDirectory)"
                                               : "chips present: " + seen.joined(separator: ", "))
    }

    public func lines() throws(HardwareError) -> [GPIOLineInfo] {
        let count = nexus_gpio_chip_num_lines(chip)
        var result: [GPIOLineInfo] = []
        for offset in 0..<UInt32(max(count, 0)) {
            var name = [CChar](repeating: 0, count: 64)
            var consumer = [CChar](repeating: 0, count: 64)
            var used: CInt = 0, output: CInt = 0, drive: CInt = 0
            let r = nexus_gpio_chip_line_info(chip, offset, &name, name.count, &consumer, consumer.count, &used, &output, &drive)
            guard r >= 0 else {
                throw HardwareError(.lineInfo, device: chipName, line: "offset \(offset)", errno: Errno(rawValue: -r))
            }
            let d: GPIODrive = drive == CInt(NEXUS_GPIO_DRIVE_OPEN_DRAIN) ? .openDrain
                : drive == CInt(NEXUS_GPIO_DRIVE_OPEN_SOURCE) ? .openSource : .pushPull
            result.append(GPIOLineInfo(offset: offset, name: Self.decode(name), consumer: Self.decode(consumer), used: used != 0,
                                       output: output != 0, drive: d))
        }
        return result
    }

    func resolve(_ line: GPIOLineSelector) throws(HardwareError) -> UInt32 {
        switch line {
        case .offset(let o):
            guard o < UInt32(max(nexus_gpio_chip_num_lines(chip), 0)) else {
                throw HardwareError(.findLine, device: chipName, line: line.description, errno: .invalidArgument,
                                    hint: "\(label) has \(nexus_gpio_chip_num_lines(chip)) lines")
            }
            return o
        case .name(let n):
            let r = nexus_gpio_chip_find_line(chip, n)
            guard r >= 0 else {
                throw HardwareError(.findLine, device: chipName, line: n, errno: Errno(rawValue: -r),
                                    hint: "no line named \(n) on \(label); `nexus-agent gpio list` shows the names")
            }
            return UInt32(r)
        }
    }

    public func requestOutput(_ line: GPIOLineSelector, consumer: String, initial: Bool, drive: GPIODrive,
                              crashLevel: Bool?) throws(HardwareError) -> any GPIOOutputLine {
        let offset = try resolve(line)
        var settings = nexus_gpio_line_settings()
        settings.offset = offset
        settings.direction = CInt(NEXUS_GPIO_OUTPUT)
        settings.drive = switch drive {
        case .pushPull: CInt(NEXUS_GPIO_DRIVE_PUSH_PULL)
        case .openDrain: CInt(NEXUS_GPIO_DRIVE_OPEN_DRAIN)
        case .openSource: CInt(NEXUS_GPIO_DRIVE_OPEN_SOURCE)
        }
        settings.initial_value = initial ? 1 : 0
        let request = try self.request(settings, line: line, consumer: consumer)
        let out = GPIORequestLine(request: request, chipName: chipName, lineName: line.description)
        if let crashLevel {
            _ = nexus_gpio_crash_guard_add(request, 0, crashLevel ? 1 : 0)
        }
        return out
    }

    public func requestInput(_ line: GPIOLineSelector, consumer: String, bias: GPIOBias,
                             edge: GPIOEdge) throws(HardwareError) -> any GPIOInputLine {
        let offset = try resolve(line)
        var settings = nexus_gpio_line_settings()
        settings.offset = offset
        settings.direction = CInt(NEXUS_GPIO_INPUT)
        settings.bias = switch bias {
        case .asIs: CInt(NEXUS_GPIO_BIAS_AS_IS)
        case .disabled: CInt(NEXUS_GPIO_BIAS_DISABLED)
        case .pullUp: CInt(NEXUS_GPIO_BIAS_PULL_UP)
        case .pullDown: CInt(NEXUS_GPIO_BIAS_PULL_DOWN)
        }
        settings.edge = switch edge {
        case .none: CInt(NEXUS_GPIO_EDGE_NONE)
        case .rising: CInt(NEXUS_GPIO_EDGE_RISING)
        case .falling: CInt(NEXUS_GPIO_EDGE_FALLING)
        case .both: CInt(NEXUS_GPIO_EDGE_BOTH)
        }
        let request = try self.request(settings, line: line, consumer: consumer)
        return GPIORequestLine(request: request, chipName: chipName, lineName: line.description)
    }

    private func request(_ settings: nexus_gpio_line_settings, line: GPIOLineSelector,
                         consumer: String) throws(HardwareError) -> OpaquePointer {
        var settings = settings
        var error: CInt = 0
        guard let request = nexus_gpio_request_lines(chip, consumer, &settings, 1, &error) else {
            let e = Errno(rawValue: error)
            throw HardwareError(.requestLine, device: chipName, line: line.description, errno: e,
                                hint: e == .busy ? "another process holds the line (`gpioinfo` shows who)" : nil)
        }
        return request
    }

    static func string(_ fill: (UnsafeMutablePointer<CChar>, Int) -> CInt) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = buffer.withUnsafeMutableBufferPointer { fill($0.baseAddress!, $0.count) }
        return decode(buffer)
    }

    static func decode(_ buffer: [CChar]) -> String { String(cBuffer: buffer) }
}

/// One requested line. Releasing it (deinit) hands the line back to the kernel.
final class GPIORequestLine: GPIOOutputLine, GPIOInputLine {
    private let request: OpaquePointer
    let chipName: String
    let lineName: String

    init(request: OpaquePointer, chipName: String, lineName: String) {
        self.request = request
        self.chipName = chipName
        self.lineName = lineName
    }

    deinit { nexus_gpio_request_release(request) }

    func set(_ high: Bool) throws(HardwareError) {
        let r = nexus_gpio_request_set_value(request, 0, high ? 1 : 0)
        guard r >= 0 else { throw HardwareError(.setValue, device: chipName, line: lineName, errno: Errno(rawValue: -r)) }
    }

    func get() throws(HardwareError) -> Bool {
        let r = nexus_gpio_request_get_value(request, 0)
        guard r >= 0 else { throw HardwareError(.getValue, device: chipName, line: lineName, errno: Errno(rawValue: -r)) }
        return r != 0
    }

    var eventDescriptor: CInt { nexus_gpio_request_event_fd(request) }

    func readEvent() throws(HardwareError) -> GPIOEdgeEvent {
        var event = nexus_gpio_edge_event()
        let r = nexus_gpio_request_read_event(request, &event)
        guard r >= 0 else { throw HardwareError(.readEvent, device: chipName, line: lineName, errno: Errno(rawValue: -r)) }
        return GPIOEdgeEvent(rising: event.rising != 0, timestamp: Instant(nanoseconds: event.timestamp_ns))
    }
}
