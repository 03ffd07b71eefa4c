#if canImport(Glibc)
internal import Glibc
#endif

/// A tiny logger in swift-log's habits: levels, key=value metadata, passed in rather
/// than built inside libraries. Lines go to stderr with sd-daemon prefixes (`<4>`) so
/// journald keeps the level.
public struct Logger: Sendable {
    public enum Level: Int, Comparable, Sendable {
        case error = 3, warning = 4, notice = 5, info = 6, debug = 7
        public static func < (a: Level, b: Level) -> Bool { a.rawValue > b.rawValue }
    }

    public var label: String
    public var minimum: Level
    /// Where finished lines go; tests capture them.
    public var sink: @Sendable (Level, String) -> Void

    public init(label: String, minimum: Level = .info,
                sink: @escaping @Sendable (Level, String) -> Void = Logger.stderr) {
        self.label = label
        self.minimum = minimum
        self.sink = sink
    }

    public func log(_ level: Level, _ message: String, _ metadata: KeyValuePairs<String, String> = [:]) {
        guard level >= minimum else { return }
        var line = "\(label): \(message)"
        for (k, v) in metadata {
            line += " \(k)=" + (v.contains(" ") ? "\"\(v)\"" : v)
        }
        sink(level, line)
    }

    public func error(_ m: String, _ md: KeyValuePairs<String, String> = [:]) { log(.error, m, md) }
    public func warning(_ m: String, _ md: KeyValuePairs<String, String> = [:]) { log(.warning, m, md) }
    public func notice(_ m: String, _ md: KeyValuePairs<String, String> = [:]) { log(.notice, m, md) }
    public func info(_ m: String, _ md: KeyValuePairs<String, String> = [:]) { log(.info, m, md) }
    public func debug(_ m: String, _ md: KeyValuePairs<String, String> = [:]) { log(.debug, m, md) }

    public static let stderr: @Sendable (Level, String) -> Void = { level, line in
        let text = "<\(level.rawValue)>" + line + "\n"
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// Discards everything.
    public static let silent = Logger(label: "", minimum: .error, sink: { _, _ in })
}
