import NexusAgent
import NexusBoards
import NexusHardware
import NexusMQTT
import NexusCrypto
import NexusWire

let runSpec = CommandSpec(
    path: "run", usage: "run [--board NAME|FILE | --config FILE] [--node NAME] [--interval SECONDS] [--print-samples]",
    summary: "Run the agent: sample every sensor, drive the status LEDs, watch the button, until SIGTERM or SIGINT.",
    options: boardOptions + [
        OptionSpec(name: "node", value: "NAME", help: "This node's name (default: the config's, else the host name)."),
        OptionSpec(name: "interval", value: "SECONDS", help: "Sampling interval (default: the config's, else 5)."),
        OptionSpec(name: "print-samples", value: nil, help: "Write each sample to stdout as one line of JSON."),
        OptionSpec(name: "samples", value: "N", help: "Stop after N samples (for scripts and measurements)."),
        OptionSpec(name: "sensors-config", value: "FILE", help: "A sensors.conf for libsensors."),
        OptionSpec(name: "sim-load", value: "FILE", help: "Simulated boards only: the node's CPU utilisation (0-1) read from FILE at each sample, instead of this machine's load."),
        OptionSpec(name: "broker", value: "URL", help: "Publish the feed to mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (docs/feed.md)."),
        OptionSpec(name: "ca", value: "FILE", help: "mqtts: the CA that signed the broker's certificate (pinned)."),
        OptionSpec(name: "cert", value: "FILE", help: "mqtts: this node's client certificate."),
        OptionSpec(name: "key", value: "FILE", help: "mqtts: this node's private key."),
        OptionSpec(name: "username", value: "NAME", help: "MQTT user name."),
        OptionSpec(name: "password-file", value: "FILE", help: "A file holding the MQTT password."),
        OptionSpec(name: "home-assistant", value: nil, help: "Publish Home Assistant MQTT discovery (off by default)."),
        OptionSpec(name: "command-key", value: "NAME=FILE", help: "Accept commands signed by this Ed25519 public key (PEM); adds to the config's commands.public_keys."),
    ],
    discussion: """
    A missing I2C bus, sensor or GPIO chip is reported as a fault in every sample and
    retried; the agent keeps running. A sleep command or a long button press drains, then
    powers the node off through systemd-logind (or power_off_command); a very long press
    powers off at once (docs/wake.md).
    Outputs start in their safe state (relays powered, LEDs dark) and return to it on
    SIGTERM/SIGINT; if the agent dies of a fatal signal a crash guard writes the same
    levels; if it is killed outright the kernel releases the lines (see docs/gpio.md for
    the wiring that keeps a released relay line powered).
    """)

func runCommand(_ args: ParsedArguments) throws(CommandFailure) -> Int32 {
    let setup = try makeSetup(args, spec: runSpec)
    var interval = setup.config.sampleInterval
    do {
        if let s = try args.number("interval", spec: runSpec, range: 0.1...3600) {
            interval = .milliseconds(Int64((s * 1000).rounded()))
        }
    } catch { throw .usage(error) }
    var limit: Int?
    if let n = args.value("samples") {
        guard let v = Int(n), v > 0 else { throw .usage(UsageError(message: "--samples: '\(n)' is not a positive whole number", command: "run")) }
        limit = v
    }
    var options = NodeDevices.Options()
    options.gpioOptional = true
    options.sensorsConfig = args.value("sensors-config") ?? setup.config.sensorsConfig
    if let load = args.value("sim-load") {
        guard setup.board.simulated else {
            throw .usage(UsageError(message: "--sim-load is for simulated boards (sim, sim-pc); \(setup.board.name) reads its real load", command: "run"))
        }
        options.simulatedLoadFile = load
    }
    options.wakeTargets = setup.config.wakeTargets
    let clock = SystemClock()
    let devices = try open(setup, options, clock)
    let sampler = Sampler(devices: devices, node: setup.node, logger: setup.logger)
    let feed = try makeFeed(args, setup: setup)
    let printSamples = args.flag("print-samples")
    let runner = AgentRunner(devices: devices, sampler: sampler, interval: interval, clock: clock, logger: setup.logger,
                             drainTimeout: setup.config.drainTimeout) { s in
        if printSamples { writeLine(s.jsonText(pretty: false)) }
    }
    runner.sampleLimit = limit
    runner.powerOff = setup.config.powerOffPath(for: setup.board)
    runner.wake = setup.config.wake
    runner.wakeTargets = setup.config.wakeTargets
    runner.feed = feed
    runner.rebootCommand = setup.config.rebootCommand
    if feed != nil { runner.commands = try makeCommandHandler(args, setup: setup) }
    do { try runner.run() } catch { throw .failed("event loop: \(error)") }
    return 0
}

/// The MQTT feed from --broker and friends, or from the config's `mqtt:` section.
func makeFeed(_ args: ParsedArguments, setup: Setup) throws(CommandFailure) -> FeedPublisher? {
    var mc = setup.config.mqtt
    if let b = args.value("broker") {
        if mc == nil { mc = AgentConfig.MQTTConfig(broker: b) } else { mc?.broker = b }
    }
    guard var mc else { return nil }
    if let v = args.value("ca") { mc.caFile = v }
    if let v = args.value("cert") { mc.certFile = v }
    if let v = args.value("key") { mc.keyFile = v }
    if let v = args.value("username") { mc.username = v }
    if let v = args.value("password-file") { mc.passwordFile = v }
    guard let url = BrokerURL(mc.broker) else {
        throw .usage(UsageError(message: "broker '\(mc.broker)' is not mqtt://HOST[:PORT] or mqtts://HOST[:PORT]", command: "run"))
    }
    var settings = MQTTSettings(broker: url, clientID: mc.clientID ?? "nexus-\(setup.node)")
    settings.username = mc.username
    settings.caFile = mc.caFile
    settings.certFile = mc.certFile
    settings.keyFile = mc.keyFile
    settings.protocolVersion = mc.protocolVersion
    settings.keepalive = mc.keepalive
    if let pf = mc.passwordFile {
        do {
            let text = String(decoding: try readSmallFile(pf, limit: 4096), as: UTF8.self)
            settings.password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        } catch {
            throw .config(.unreadable(path: pf, what: "MQTT password file", error))
        }
    }
    if url.tls, mc.caFile == nil {
        throw .usage(UsageError(message: "mqtts:// needs --ca (or mqtt.ca_file): the broker's CA is pinned", command: "run"))
    }
    let will = FeedPublisher.will(node: setup.node, version: version, board: setup.board)
    do {
        let client = try MQTTClient(settings: settings, will: will, logger: setup.logger)
        let feed = FeedPublisher(client: client, node: setup.node, version: version, board: setup.board, logger: setup.logger)
        feed.homeAssistantPrefix = args.flag("home-assistant") ? (mc.homeAssistantPrefix ?? "homeassistant") : mc.homeAssistantPrefix
        return feed
    } catch {
        throw .failed("\(error)")
    }
}

/// The verifier for signed commands: the config's keys plus --command-key. Without any
/// key, commands are refused (and said to be), never accepted unsigned.
func makeCommandHandler(_ args: ParsedArguments, setup: Setup) throws(CommandFailure) -> CommandHandler? {
    var files = setup.config.commandKeys
    if let spec = args.value("command-key") {
        guard let eq = spec.firstIndex(of: "="), eq != spec.startIndex else {
            throw .usage(UsageError(message: "--command-key wants NAME=FILE", command: "run"))
        }
        files[String(spec[..<eq])] = String(spec[spec.index(after: eq)...])
    }
    guard !files.isEmpty else { return nil }
    var keys: [String: Ed25519.PublicKey] = [:]
    for (name, path) in files {
        guard let key = Ed25519.PublicKey(pemFile: path) else {
            throw .failed("command key '\(name)': \(path) is not a readable Ed25519 public key in PEM (openssl pkey -pubout)")
        }
        keys[name] = key
    }
    setup.logger.info("signed commands accepted", ["keys": keys.keys.sorted().joined(separator: ",")])
    return CommandHandler(node: setup.node, verifier: CommandVerifier(keys: keys, maxSkewMs: setup.config.commandMaxSkew.milliseconds))
}
