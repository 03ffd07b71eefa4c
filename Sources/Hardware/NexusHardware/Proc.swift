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

/// Lines and unsigned decimal fields of procfs text, read straight from its bytes: a
/// `String` split walks grapheme clusters, and cost the agent about 1.8 million
/// instructions a sample on /proc/stat and /proc/meminfo (docs/benchmarks.md).
struct ProcText {
    let bytes: [UInt8]

    /// The bytes after `prefix` on the first line that starts with it.
    func line(after prefix: StaticString) -> ArraySlice<UInt8>? {
        let p = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            if end - start >= p.count, bytes[start..<start + p.count].elementsEqual(p) {
                return bytes[(start + p.count)..<end]
            }
            start = end + 1
        }
        return nil
    }

    /// The whitespace-separated unsigned numbers of a line, up to the first field that is
    /// not one (nil there ends the list: the fields after it are not trusted).
    static func numbers(_ line: ArraySlice<UInt8>) -> [UInt64] {
        var out: [UInt64] = []
        var value: UInt64 = 0, inField = false, bad = false
        for b in line {
            if b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") {
                if inField { if bad { return out }; out.append(value) }
                inField = false; bad = false; value = 0
            } else if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                inField = true
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(UInt64(b - UInt8(ascii: "0")))
                if o1 || o2 { bad = true } else { value = a }
            } else {
                inField = true; bad = true
            }
        }
        if inField && !bad { out.append(value) }
        return out
    }
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
    public static func parse(procStat text: String) -> CPUTimes? { parse(procStat: Array(text.utf8)) }

    public static func parse(procStat bytes: [UInt8]) -> CPUTimes? {
        guard let line = ProcText(bytes: bytes).line(after: "cpu ") else { return nil }
        let fields = ProcText.numbers(line)
        guard fields.count >= 4 else { return nil }
        // guest and guest_nice (fields 9, 10) are already counted in user and nice.
        let counted = fields.prefix(8)
        let idle = fields[3] + (fields.count > 4 ? fields[4] : 0)
        let (total, overflow) = counted.reduce((UInt64(0), false)) { acc, f in
            let (s, o) = acc.0.addingReportingOverflow(f)
            return (s, acc.1 || o)
        }
        guard !overflow, total >= idle else { return nil }
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

    public static func parse(meminfo text: String) -> MemoryInfo? { parse(meminfo: Array(text.utf8)) }

    /// `MemTotal:        4000 kB` and `MemAvailable:  1000 kB`.
    public static func parse(meminfo bytes: [UInt8]) -> MemoryInfo? {
        let text = ProcText(bytes: bytes)
        guard let t = text.line(after: "MemTotal:").flatMap({ ProcText.numbers($0).first }),
              let a = text.line(after: "MemAvailable:").flatMap({ ProcText.numbers($0).first }) else { return nil }
        return MemoryInfo(totalKiB: t, availableKiB: a)
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
        guard let t = CPUTimes.parse(procStat: try readSmallFile(root + "/stat")) else {
            throw HardwareError(.read, device: root + "/stat", errno: .invalidArgument, hint: "no cpu line")
        }
        return t
    }

    public func memory() throws(HardwareError) -> MemoryInfo {
        guard let m = MemoryInfo.parse(meminfo: try readSmallFile(root + "/meminfo")) else {
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
