internal import NexusYAML
public import NexusHardware

/// The agent's configuration file (default /etc/nexusgrid/agent.yaml). Documented in
/// docs/configuration.md; every key is optional, unknown keys are errors.
public struct AgentConfig: Equatable, Sendable {
    /// The node's name in the feed; defaults to the host name.
    public var node: String?
    /// A built-in board name or a path to a board file.
    public var board: String = "sim"
    public var sampleInterval: Duration = .seconds(5)
    /// A sensors.conf for libsensors (labels, computed values); none by default.
    public var sensorsConfig: String?
    public var logLevel: Logger.Level = .info
    /// How the node powers itself off (a very long button press today): argv, run
    /// directly without a shell. The agent's user needs permission (docs/configuration.md).
    public var powerOffCommand: [String] = ["systemctl", "poweroff"]

    public init() {}

    public static let defaultPath = "/etc/nexusgrid/agent.yaml"

    public static func load(path: String) throws(ConfigError) -> AgentConfig {
        try parse(text: try ConfigError.readText(path, what: "config file"), file: path)
    }

    public static func parse(text: String, file: String) throws(ConfigError) -> AgentConfig {
        do throws(YAMLError) {
            var c = AgentConfig()
            guard let root = try YAML.parse(text, file: file) else { return c }
            let o = try YAMLObject(root, file: file, path: "")
            if let node = try o.string("node") {
                guard isValidNodeName(node) else {
                    throw o.error("node", "'\(node)' must be 1-63 characters of a-z, 0-9 and '-' (it becomes an MQTT topic level)")
                }
                c.node = node
            }
            c.board = try o.string("board") ?? c.board
            if let s = try o.number("sample_interval_s", positive: true) {
                guard (0.1...3600).contains(s) else { throw o.error("sample_interval_s", "must be between 0.1 and 3600 seconds") }
                c.sampleInterval = .milliseconds(Int64((s * 1000).rounded()))
            }
            c.sensorsConfig = try o.string("sensors_config")
            if o.has("power_off_command") {
                let argv = try o.strings("power_off_command")
                guard let first = argv.first, !first.isEmpty else {
                    throw o.error("power_off_command", "must name a program, e.g. [systemctl, poweroff]")
                }
                c.powerOffCommand = argv
            }
            c.logLevel = try o.choice("log_level", [("error", Logger.Level.error), ("warning", .warning),
                                                    ("notice", .notice), ("info", .info), ("debug", .debug)]) ?? c.logLevel
            try o.finish()
            return c
        } catch {
            throw .invalid(error)
        }
    }

    /// Node names go into topics and labels: keep them to DNS-label characters.
    public static func isValidNodeName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 63 && !s.hasPrefix("-") && !s.hasSuffix("-")
            && s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }
}
