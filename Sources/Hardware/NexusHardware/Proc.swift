#if canImport(Glibc)
internal import Glibc
#endif

/// Names in a directory (without . and ..); empty if it cannot be read.
public func directoryEntries(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var out: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        if name != "." && name != ".." { out.append(name) }
    }
    return out
}

extension String {
    /// The text of a NUL-terminated C buffer (up to the first NUL).
    public init(cBuffer: [CChar]) {
        self = String(decoding: cBuffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Reads a small file (procfs, sysfs) whole with read(2).
public func readSmallFile(_ path: String, limit: Int = 1 << 20) throws(HardwareError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw HardwareError(.open, device: path, errno: .current) }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while out.count < limit {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            let e = Errno.current
            if e == .interrupted { continue }
            throw HardwareError(.read, device: path, errno: e)
        }
        if n == 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}

/// Aggregate CPU time counters from the first line of /proc/stat (USER_HZ ticks).
public struct CPUTimes: Equatable, Sendable {
    public var busy: UInt64
    public var total: UInt64
    public init(busy: UInt64, total: UInt64) {
        self.busy = busy
        self.total = total
    }

    /// Parses `cpu  user nice system idle iowait irq softirq steal ...`.
    public static func parse(procStat text: String) -> CPUTimes? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let fields = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard fields.count >= 4 else { return nil }
        // guest and guest_nice (fields 9, 10) are already counted in user and nice.
        let counted = fields.prefix(8)
        let idle = fields[3] + (fields.count > 4 ? fields[4] : 0)
        let total = counted.reduce(0, +)
        return CPUTimes(busy: total - idle, total: total)
    }

    /// Busy fraction 0...1 between two readings; nil when no time passed.
    public func utilisation(since earlier: CPUTimes) -> Double? {
        guard total > earlier.total, busy >= earlier.busy else { return nil }
        return min(1, Double(busy - earlier.busy) / Double(total - earlier.total))
    }
}

public struct MemoryInfo: Equatable, Sendable {
    public var totalKiB: UInt64
    public var availableKiB: UInt64
    public init(totalKiB: UInt64, availableKiB: UInt64) {
        self.totalKiB = totalKiB
        self.availableKiB = availableKiB
    }

    public var usedFraction: Double {
        totalKiB == 0 ? 0 : Double(totalKiB - min(availableKiB, totalKiB)) / Double(totalKiB)
    }

    public static func parse(meminfo text: String) -> MemoryInfo? {
        var total: UInt64?
        var available: UInt64?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2 else { continue }
            switch parts[0] {
            case "MemTotal:": total = UInt64(parts[1])
            case "MemAvailable:": available = UInt64(parts[1])
            default: continue
            }
        }
        guard let total, let available else { return nil }
        return MemoryInfo(totalKiB: total, availableKiB: available)
    }
}

public struct LoadAverage: Equatable, Sendable {
    public var one: Double, five: Double, fifteen: Double
    public init(one: Double, five: Double, fifteen: Double) {
        self.one = one
        self.five = five
        self.fifteen = fifteen
    }

    public static func parse(loadavg text: String) -> LoadAverage? {
        let parts = text.split(separator: " ").prefix(3).compactMap { Double($0) }
        guard parts.count == 3 else { return nil }
        return LoadAverage(one: parts[0], five: parts[1], fifteen: parts[2])
    }
}

/// The host's /proc (or a fixture root in tests).
public struct ProcFS: Sendable {
    public var root: String
    public init(root: String = "/proc") { self.root = root }

    func text(_ name: String) throws(HardwareError) -> String {
        String(decoding: try readSmallFile(root + "/" + name), as: UTF8.self)
    }

    public func cpuTimes() throws(HardwareError) -> CPUTimes {
        guard let t = CPUTimes.parse(procStat: try text("stat")) else {
            throw HardwareError(.read, device: root + "/stat", errno: .invalidArgument, hint: "no cpu line")
        }
        return t
    }

    public func memory() throws(HardwareError) -> MemoryInfo {
        guard let m = MemoryInfo.parse(meminfo: try text("meminfo")) else {
            throw HardwareError(.read, device: root + "/meminfo", errno: .invalidArgument, hint: "no MemTotal/MemAvailable")
        }
        return m
    }

    public func loadAverage() throws(HardwareError) -> LoadAverage {
        guard let l = LoadAverage.parse(loadavg: try text("loadavg")) else {
            throw HardwareError(.read, device: root + "/loadavg", errno: .invalidArgument, hint: "unreadable")
        }
        return l
    }
}
