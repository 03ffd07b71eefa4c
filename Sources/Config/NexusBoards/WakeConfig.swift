internal import NexusYAML
public import NexusHardware

/// How this node is woken once halted: published in its status so the coordinator knows
/// whom to ask. docs/wake.md.
public struct NodeWake: Equatable, Sendable {
    public enum Method: String, Sendable, CaseIterable {
        case none, wol, poeRelay = "poe-relay", gpioPulse = "gpio-pulse"
    }

    public var method: Method = .none
    /// wol: the interface whose Wake-on-LAN arming is checked and whose MAC a waker needs.
    public var interface: String?
    /// poe-relay, gpio-pulse: the neighbour whose agent carries out the wake.
    public var via: String?

    public init(method: Method = .none, interface: String? = nil, via: String? = nil) {
        self.method = method
        self.interface = interface
        self.via = via
    }
}

/// A node this agent can wake on a `wake` command, and how.
public enum WakeTarget: Equatable, Sendable {
    case wol(mac: MACAddress, interface: String?, raw: Bool, password: [UInt8]?)
    /// A relay channel of this board that feeds the target: off, the minimum off-time, on.
    case poeRelay(relay: String)
    /// An output of this board wired to the target's wake input, pulled low for `pulse`.
    case gpioPulse(line: String, pulse: Duration, drive: GPIODrive)

    public var method: String {
        switch self {
        case .wol: "wol"
        case .poeRelay: "poe-relay"
        case .gpioPulse: "gpio-pulse"
        }
    }
}

/// How the node powers itself off once it sleeps.
public enum PowerOffPath: Equatable, Sendable {
    /// systemd-logind's Manager.PowerOff over the system bus (sd-bus); needs a polkit rule.
    case logind
    /// An argv run directly, without a shell.
    case command([String])
    /// A simulated board's: the node halts in the simulation only; the host stays up.
    case simulated
}

extension AgentConfig {
    static func parseWake(_ o: YAMLObject) throws(YAMLError) -> NodeWake {
        var w = NodeWake()
        w.method = try o.choice("method", NodeWake.Method.allCases.map { ($0.rawValue, $0) }) ?? .none
        w.interface = try o.string("interface")
        w.via = try o.string("via")
        if let via = w.via, !isValidNodeName(via) { throw o.error("via", "'\(via)' is not a node name") }
        switch w.method {
        case .wol:
            guard w.interface != nil else { throw o.error("method", "wol needs wake.interface (the NIC that must stay armed)") }
            if w.via != nil { throw o.error("via", "wol is sent by any agent on the LAN; via is for poe-relay and gpio-pulse") }
        case .poeRelay, .gpioPulse:
            if w.interface != nil { throw o.error("interface", "interface is for wol") }
        case .none:
            if w.interface != nil || w.via != nil { throw o.error("method", "say which method (wol, poe-relay, gpio-pulse)") }
        }
        try o.finish()
        return w
    }

    static func parseWakeTargets(_ o: YAMLObject, node: String?) throws(YAMLError) -> [String: WakeTarget] {
        var targets: [String: WakeTarget] = [:]
        for name in o.keys {
            guard isValidNodeName(name) else { throw o.error(name, "'\(name)' is not a node name (a-z, 0-9, '-')") }
            if name == node { throw o.error(name, "a node cannot wake itself") }
            guard let t = try o.object(name) else { throw o.error(name, "needs method and its settings") }
            let method = try t.choice("method", [("wol", "wol"), ("poe-relay", "poe-relay"), ("gpio-pulse", "gpio-pulse")])
            switch method {
            case "wol":
                let text = try t.requiredString("mac")
                guard let mac = MACAddress(text) else { throw t.error("mac", "'\(text)' is not a MAC address (AA:BB:CC:DD:EE:FF)") }
                var password: [UInt8]?
                if let p = try t.string("password") {
                    guard let pw = WakeOnLAN.password(p) else {
                        throw t.error("password", "a SecureOn password is 6 bytes (AA:BB:CC:DD:EE:FF) or 4 (1.2.3.4)")
                    }
                    password = pw
                }
                let raw = try t.bool("raw") ?? false
                let interface = try t.string("interface")
                if raw && interface == nil { throw t.error("raw", "a raw frame needs interface") }
                targets[name] = .wol(mac: mac, interface: interface, raw: raw, password: password)
            case "poe-relay":
                targets[name] = .poeRelay(relay: try t.requiredString("relay"))
            case "gpio-pulse":
                let pulse = Duration.milliseconds(try t.integer("pulse_ms", in: 10...10_000) ?? 200)
                let drive = try t.choice("drive", [("open-drain", GPIODrive.openDrain), ("push-pull", .pushPull)]) ?? .openDrain
                targets[name] = .gpioPulse(line: try t.requiredString("line"), pulse: pulse, drive: drive)
            default:
                throw t.error("method", "needs method: wol, poe-relay or gpio-pulse")
            }
            try t.finish()
        }
        try o.finish()
        return targets
    }
}

extension AgentConfig {
    /// What only the board can tell: whether the wake settings fit its wiring.
    public func check(against board: Board, node: String) throws(ConfigError) {
        if wakeTargets[node] != nil { throw .doesNotFit("wake_targets.\(node): a node cannot wake itself") }
        let supported = board.power.wake.map(\.rawValue)
        if wake.method != .none, !supported.contains(wake.method.rawValue) {
            throw .doesNotFit("wake.method: board \(board.name) cannot be woken by \(wake.method.rawValue) "
                + "(it supports: \(supported.isEmpty ? "none" : supported.joined(separator: ", ")))")
        }
        var used: [String: String] = [:]
        for l in board.leds { used[l.line.description] = "LED \(l.name)" }
        for r in board.relays { used[r.line.description] = "relay \(r.settings.name)" }
        if let b = board.button { used[b.line.description] = "the button" }
        for name in wakeTargets.keys.sorted() {
            switch wakeTargets[name] {
            case .poeRelay(let relay)?:
                guard board.relays.contains(where: { $0.settings.name == relay }) else {
                    throw .doesNotFit("wake_targets.\(name).relay: board \(board.name) has no relay '\(relay)' "
                        + "(it has: \(board.relays.map(\.settings.name).joined(separator: ", ")))")
                }
            case .gpioPulse(let line, _, _)?:
                guard board.gpio.lineNames.contains(line) else {
                    throw .doesNotFit("wake_targets.\(name).line: '\(line)' is not a line of board \(board.name)")
                }
                if let owner = used[line] { throw .doesNotFit("wake_targets.\(name).line: \(line) is already \(owner)") }
                used[line] = "the wake line for \(name)"
            case .wol?, nil:
                break
            }
        }
    }
}
