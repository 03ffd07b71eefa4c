/// Typed, strict reading of a YAML mapping: each key is read at most once, and
/// `finish()` reports any key nobody read, so typos are errors rather than silently
/// ignored settings.
public final class YAMLObject {
    public let file: String
    /// Where this mapping sits, for messages: "sensors[0]".
    public let path: String
    public let mark: YAMLMark
    private let entries: [YAMLEntry]
    private var read: Set<String> = []

    public init(_ node: YAMLNode, file: String, path: String) throws(YAMLError) {
        guard case .mapping(let entries, let mark) = node else {
            throw YAMLError(file: file, mark: node.mark, message: "\(path.isEmpty ? "the file" : path) must be a mapping (key: value), found \(node.kindName)")
        }
        self.file = file
        self.path = path
        self.mark = mark
        self.entries = entries
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func error(_ key: String, _ message: String) -> YAMLError {
        let m = entries.first { $0.key == key }?.value.mark ?? mark
        return YAMLError(file: file, mark: m, message: "\(name(key)): \(message)")
    }

    public func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// Every key, in file order (for maps whose keys are names, such as key files).
    public var keys: [String] { entries.map(\.key) }

    public func node(_ key: String) -> YAMLNode? {
        read.insert(key)
        return entries.first { $0.key == key }?.value
    }

    func scalar(_ key: String) throws(YAMLError) -> (String, Bool, YAMLMark)? {
        guard let n = node(key) else { return nil }
        guard case .scalar(let s, let plain, let m) = n else {
            throw YAMLError(file: file, mark: n.mark, message: "\(name(key)): expected a value, found \(n.kindName)")
        }
        if plain && (s == "~" || s == "null" || s.isEmpty) { return nil }
        return (s, plain, m)
    }

    public func string(_ key: String) throws(YAMLError) -> String? {
        try scalar(key)?.0
    }

    public func requiredString(_ key: String) throws(YAMLError) -> String {
        guard let s = try string(key) else { throw YAMLError(file: file, mark: mark, message: "\(name(key)) is required") }
        return s
    }

    /// Decimal, or hex with 0x (I2C addresses are written 0x40).
    public func integer(_ key: String, in range: ClosedRange<Int>? = nil) throws(YAMLError) -> Int? {
        guard let (s, _, m) = try scalar(key) else { return nil }
        let v: Int? = s.hasPrefix("0x") || s.hasPrefix("0X") ? Int(s.dropFirst(2), radix: 16) : Int(s)
        guard let v else { throw YAMLError(file: file, mark: m, message: "\(name(key)): '\(s)' is not a whole number") }
        if let range, !range.contains(v) {
            throw YAMLError(file: file, mark: m, message: "\(name(key)): \(s) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    /// A decimal number, finite; `positive` rejects zero and below, `maximum` anything above.
    public func number(_ key: String, positive: Bool = false, maximum: Double = 1e9) throws(YAMLError) -> Double? {
        guard let (s, _, m) = try scalar(key) else { return nil }
        guard let v = Double(s), v.isFinite else {
            throw YAMLError(file: file, mark: m, message: "\(name(key)): '\(s)' is not a number")
        }
        if positive && v <= 0 {
            throw YAMLError(file: file, mark: m, message: "\(name(key)): must be greater than zero, got \(s)")
        }
        if v > maximum || v < -maximum {
            throw YAMLError(file: file, mark: m, message: "\(name(key)): \(s) is out of range (at most \(maximum))")
        }
        return v
    }

    public func bool(_ key: String) throws(YAMLError) -> Bool? {
        guard let (s, plain, m) = try scalar(key) else { return nil }
        switch (s, plain) {
        case ("true", true), ("yes", true), ("on", true): return true
        case ("false", true), ("no", true), ("off", true): return false
        default: throw YAMLError(file: file, mark: m, message: "\(name(key)): expected true or false, got '\(s)'")
        }
    }

    /// A value from a fixed vocabulary.
    public func choice<T>(_ key: String, _ options: [(String, T)]) throws(YAMLError) -> T? {
        guard let (s, _, m) = try scalar(key) else { return nil }
        guard let hit = options.first(where: { $0.0 == s }) else {
            throw YAMLError(file: file, mark: m,
                            message: "\(name(key)): '\(s)' is not one of: " + options.map(\.0).joined(separator: ", "))
        }
        return hit.1
    }

    public func object(_ key: String) throws(YAMLError) -> YAMLObject? {
        guard let n = node(key) else { return nil }
        return try YAMLObject(n, file: file, path: name(key))
    }

    public func list(_ key: String) throws(YAMLError) -> [YAMLNode] {
        guard let n = node(key) else { return [] }
        guard case .sequence(let items, _) = n else {
            throw YAMLError(file: file, mark: n.mark, message: "\(name(key)): expected a list, found \(n.kindName)")
        }
        return items
    }

    public func objects(_ key: String) throws(YAMLError) -> [YAMLObject] {
        var out: [YAMLObject] = []
        for (i, n) in try list(key).enumerated() {
            out.append(try YAMLObject(n, file: file, path: "\(name(key))[\(i)]"))
        }
        return out
    }

    public func strings(_ key: String) throws(YAMLError) -> [String] {
        var out: [String] = []
        for n in try list(key) {
            guard case .scalar(let s, _, _) = n else {
                throw YAMLError(file: file, mark: n.mark, message: "\(name(key)): expected a list of values")
            }
            out.append(s)
        }
        return out
    }

    /// Fails on the first key that was never read.
    public func finish() throws(YAMLError) {
        if let unknown = entries.first(where: { !read.contains($0.key) }) {
            let known = read.sorted().joined(separator: ", ")
            throw YAMLError(file: file, mark: unknown.keyMark,
                            message: "unknown key '\(name(unknown.key))'" + (known.isEmpty ? "" : " (known here: \(known))"))
        }
    }
}
