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
    /// How the node powers itself off when it sleeps: logind over D-Bus, or an argv run
    /// directly without a shell. The agent's user needs permission (docs/wake.md). nil:
    /// not configured, see `powerOffPath(for:)`.
    public var powerOff: PowerOffPath?

    /// The path in effect: the configured one, else logind, except on a simulated board,
    /// whose sleep must never power off the machine the simulation runs on.
    public func powerOffPath(for board: Board) -> PowerOffPath {
        powerOff ?? (board.simulated ? .simulated : .logind)
    }
    /// How this node is woken; published in its status.
    public var wake = NodeWake()
    /// Nodes this agent wakes on a `wake` command.
    public var wakeTargets: [String: WakeTarget] = [:]
    /// How long the agent stays `draining` after a sleep request before it sleeps without
    /// the coordinator's go-ahead.
    public var drainTimeout: Duration = .seconds(300)
    /// The MQTT feed; nil runs the agent without one.
    public var mqtt: MQTTConfig?
    /// Public keys (name → PEM file) whose signed commands the agent accepts. None: every
    /// command is rejected.
    public var commandKeys: [String: String] = [:]
    public var commandMaxSkew: Duration = .seconds(30)
    /// How the node reboots on a `reboot` command: argv, run without a shell.
    public var rebootCommand: [String] = ["systemctl", "reboot"]

    public struct MQTTConfig: Equatable, Sendable {
        /// mqtt://host[:port] or mqtts://host[:port]
        public var broker: String
        public var clientID: String?
        public var username: String?
        /// A file holding the password (kept out of the config, which may be world-readable).
        public var passwordFile: String?
        public var caFile: String?
        public var certFile: String?
        public var keyFile: String?
        public var protocolVersion = 4
        public var keepalive = 30
        /// Home Assistant discovery prefix; nil (the default) publishes no discovery.
        public var homeAssistantPrefix: String?
        public init(broker: String) { self.broker = broker }
    }

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
            if let d = try o.integer("drain_timeout_s", in: 1...86_400) { c.drainTimeout = .seconds(d) }
            let path = try o.choice("power_off", [("logind", "logind"), ("command", "command")])
            if o.has("power_off_command") {
                let argv = try o.strings("power_off_command")
                guard let first = argv.first, !first.isEmpty else {
                    throw o.error("power_off_command", "must name a program, e.g. [systemctl, poweroff]")
                }
                if path == "logind" { throw o.error("power_off_command", "is used with power_off: command, not logind") }
                c.powerOff = .command(argv)
            } else if path == "command" {
                c.powerOff = .command(["systemctl", "poweroff"])
            } else if path == "logind" {
                c.powerOff = .logind
            }
            if let w = try o.object("wake") { c.wake = try parseWake(w) }
            if let t = try o.object("wake_targets") { c.wakeTargets = try parseWakeTargets(t, node: c.node) }
            if let m = try o.object("mqtt") {
                var mc = MQTTConfig(broker: try m.requiredString("broker"))
                guard mc.broker.hasPrefix("mqtt://") || mc.broker.hasPrefix("mqtts://") else {
                    throw m.error("broker", "'\(mc.broker)' must start with mqtt:// or mqtts://")
                }
                mc.clientID = try m.string("client_id")
                mc.username = try m.string("username")
                mc.passwordFile = try m.string("password_file")
                mc.caFile = try m.string("ca_file")
                mc.certFile = try m.string("cert_file")
                mc.keyFile = try m.string("key_file")
                mc.protocolVersion = try m.choice("protocol", [("3.1.1", 4), ("5", 5)]) ?? 4
                mc.keepalive = try m.integer("keepalive_s", in: 5...3600) ?? 30
                if try m.bool("home_assistant") == true {
                    mc.homeAssistantPrefix = try m.string("home_assistant_prefix") ?? "homeassistant"
                } else {
                    _ = try m.string("home_assistant_prefix")
                }
                try m.finish()
                c.mqtt = mc
            }
            if let cmd = try o.object("commands") {
                if let keys = try cmd.object("public_keys") {
                    for name in keys.keys {
                        c.commandKeys[name] = try keys.requiredString(name)
                    }
                    try keys.finish()
                }
                if let skew = try cmd.integer("max_skew_s", in: 1...3600) { c.commandMaxSkew = .seconds(skew) }
                if cmd.has("reboot_command") {
                    let argv = try cmd.strings("reboot_command")
                    guard let first = argv.first, !first.isEmpty else { throw cmd.error("reboot_command", "must name a program") }
                    c.rebootCommand = argv
                }
                try cmd.finish()
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
