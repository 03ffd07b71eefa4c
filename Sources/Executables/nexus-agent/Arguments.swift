/// A small command-line parser. swift-argument-parser would double the agent's RSS
/// (it brings FoundationEssentials: 9.4 MB vs 4.5 MB for a static hello, measured in
/// docs/dependencies.md), so the agent parses its few options itself.
struct OptionSpec {
    var name: String
    var value: String?    // nil: a flag
    var help: String
}

struct CommandSpec {
    var path: String            // "gpio led"
    var usage: String
    var summary: String
    var options: [OptionSpec]
    var discussion: String = ""

    var helpText: String {
        var s = "\(summary)\n\nUsage: nexus-agent \(usage)\n"
        if !options.isEmpty {
            s += "\nOptions:\n"
            let all = options + [OptionSpec(name: "help", value: nil, help: "Show this help.")]
            let left = all.map { "  --\($0.name)" + ($0.value.map { " \($0)" } ?? "") }
            let width = (left.map(\.count).max() ?? 0) + 2
            for (l, o) in zip(left, all) {
                s += l + String(repeating: " ", count: width - l.count) + o.help + "\n"
            }
        }
        if !discussion.isEmpty { s += "\n" + discussion + "\n" }
        return s
    }
}

struct UsageError: Error, CustomStringConvertible {
    var message: String
    var command: String
    var description: String { "\(message)\nSee 'nexus-agent \(command) --help'." }
}

struct ParsedArguments {
    var values: [String: String] = [:]
    var flags: Set<String> = []
    var positionals: [String] = []
    var help = false

    func value(_ name: String) -> String? { values[name] }
    func flag(_ name: String) -> Bool { flags.contains(name) }

    func number(_ name: String, spec: CommandSpec, range: ClosedRange<Double>) throws(UsageError) -> Double? {
        guard let v = values[name] else { return nil }
        guard let d = Double(v), range.contains(d) else {
            func plain(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x) }
            throw UsageError(message: "--\(name): '\(v)' is not a number from \(plain(range.lowerBound)) to \(plain(range.upperBound))",
                             command: spec.path)
        }
        return d
    }
}

func parse(_ args: ArraySlice<String>, _ spec: CommandSpec) throws(UsageError) -> ParsedArguments {
    var out = ParsedArguments()
    var i = args.startIndex
    while i < args.endIndex {
        let a = args[i]
        i += 1
        if a == "-h" || a == "--help" { out.help = true; continue }
        if a == "--" { out.positionals += args[i...]; break }
        guard a.hasPrefix("--") else {
            if a.hasPrefix("-") && a.count > 1 && Double(a) == nil {
                throw UsageError(message: "unknown option '\(a)'", command: spec.path)
            }
            out.positionals.append(a)
            continue
        }
        var name = String(a.dropFirst(2))
        var inline: String?
        if let eq = name.firstIndex(of: "=") {
            inline = String(name[name.index(after: eq)...])
            name = String(name[..<eq])
        }
        guard let opt = spec.options.first(where: { $0.name == name }) else {
            let close = spec.options.map(\.name).filter { editDistance($0, name) <= 2 }
            throw UsageError(message: "unknown option '--\(name)'" + (close.isEmpty ? "" : "; did you mean --\(close[0])?"),
                             command: spec.path)
        }
        if opt.value == nil {
            guard inline == nil else { throw UsageError(message: "--\(name) takes no value", command: spec.path) }
            out.flags.insert(name)
        } else if let inline {
            out.values[name] = inline
        } else {
            guard i < args.endIndex else {
                throw UsageError(message: "--\(name) needs a value (\(opt.value ?? "VALUE"))", command: spec.path)
            }
            out.values[name] = args[i]
            i += 1
        }
    }
    return out
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var row = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var previous = row[0]
        row[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            let current = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
            previous = current
        }
    }
    return a.isEmpty ? b.count : row[b.count]
}
