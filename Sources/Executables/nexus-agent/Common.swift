import NexusAgent
import NexusBoards
import NexusHardware
#if canImport(Glibc)
import Glibc
#endif

let version = "0.1.0"

/// Options every device command shares.
let boardOptions = [
    OptionSpec(name: "board", value: "NAME|FILE", help: "Board profile: a built-in name (see `nexus-agent boards`) or a board file. Default: the config file's, else sim."),
    OptionSpec(name: "config", value: "FILE", help: "Agent config file. Default: \(AgentConfig.defaultPath) if it exists."),
    OptionSpec(name: "log-level", value: "LEVEL", help: "error, warning, notice, info or debug (default: the config's, else info)."),
]

/// What the command runs with, after config file, board and flags are combined.
struct Setup {
    var config: AgentConfig
    var board: Board
    var node: String
    var logger: Logger
}

enum CommandFailure: Error, CustomStringConvertible {
    case config(ConfigError)
    case devices(String)
    case usage(UsageError)
    case failed(String)

    var description: String {
        switch self {
        case .config(let e): "config: \(e)"
        case .devices(let s): s
        case .usage(let u): u.description
        case .failed(let s): s
        }
    }

    var exitCode: Int32 {
        if case .usage = self { return 2 }
        return 1
    }
}

/// Opens the board's devices for a command; a failure is a clear message, exit 1.
func open(_ setup: Setup, _ options: NodeDevices.Options, _ clock: SystemClock) throws(CommandFailure) -> NodeDevices {
    do { return try NodeDevices(board: setup.board, options: options, clock: clock, logger: setup.logger) }
    catch { throw .devices("\(error)") }
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

func makeSetup(_ args: ParsedArguments, spec: CommandSpec, loggerLabel: String = "nexus-agent") throws(CommandFailure) -> Setup {
    var config = AgentConfig()
    do throws(ConfigError) {
        if let path = args.value("config") {
            config = try AgentConfig.load(path: path)
        } else if fileExists(AgentConfig.defaultPath) {
            config = try AgentConfig.load(path: AgentConfig.defaultPath)
        }
    } catch {
        throw .config(error)
    }
    if let level = args.value("log-level") {
        let levels: [String: Logger.Level] = ["error": .error, "warning": .warning, "notice": .notice, "info": .info, "debug": .debug]
        guard let l = levels[level] else {
            throw .usage(UsageError(message: "--log-level: '\(level)' is not one of error, warning, notice, info, debug", command: spec.path))
        }
        config.logLevel = l
    }
    if let b = args.value("board") { config.board = b }
    let board: Board
    do { board = try BoardCatalog.load(config.board) } catch { throw .config(error) }
    var node = config.node ?? hostNodeName()
    if let n = args.value("node") {
        guard AgentConfig.isValidNodeName(n) else {
            throw .usage(UsageError(message: "--node: '\(n)' must be 1-63 characters of a-z, 0-9 and '-'", command: spec.path))
        }
        node = n
    }
    do { try config.check(against: board, node: node) } catch { throw .config(error) }
    return Setup(config: config, board: board, node: node, logger: Logger(label: loggerLabel, minimum: config.logLevel))
}

/// The host name, lower-cased and cut to DNS-label characters, as the default node name.
func hostNodeName() -> String {
    var buf = [CChar](repeating: 0, count: 256)
    guard gethostname(&buf, buf.count) == 0 else { return "node" }
    let raw = String(cBuffer: buf)
    let cleaned = String(raw.lowercased().split(separator: ".").first ?? "node")
        .map { ($0.isLetter && $0.isASCII) || ($0.isNumber && $0.isASCII) ? $0 : "-" }
    let s = String(String(cleaned).prefix(63)).trimmingDashes()
    return AgentConfig.isValidNodeName(s) ? s : "node"
}

extension String {
    func trimmingDashes() -> String {
        var s = Substring(self)
        while s.hasPrefix("-") { s = s.dropFirst() }
        while s.hasSuffix("-") { s = s.dropLast() }
        return String(s)
    }

    func padded(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}

func sleepFor(_ d: Duration) {
    var ts = timespec(tv_sec: Int(d.nanosecondsClamped / 1_000_000_000), tv_nsec: Int(d.nanosecondsClamped % 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&ts, &remaining) != 0 && errno == EINTR { ts = remaining }
}

func printError(_ s: String) {
    var bytes = Array(("nexus-agent: " + s + "\n").utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

/// Fixed-point text without Foundation's String(format:).
func fixed(_ v: Double, _ places: Int) -> String {
    guard v.isFinite else { return "-" }
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let n = Int64((abs(v) * scale).rounded())
    let whole = n / Int64(scale)
    var frac = String(n % Int64(scale))
    while frac.count < places { frac = "0" + frac }
    return (v < 0 && n != 0 ? "-" : "") + String(whole) + (places > 0 ? "." + frac : "")
}

/// Writes a line straight to fd 1, unbuffered, so a pipe reader sees each sample as it
/// is taken.
func writeLine(_ s: String) {
    var bytes = Array((s + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 { if errno == EINTR { continue } else { return } }
        offset += n
    }
}
