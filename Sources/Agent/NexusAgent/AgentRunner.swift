public import NexusBoards
internal import NexusDrivers
internal import NexusWire
public import NexusHardware

/// The agent's run loop: one thread, one poll over a signalfd, timerfds for sampling,
/// LED steps and button debounce, and the button's edge-event descriptor.
public final class AgentRunner {
    public let devices: NodeDevices
    public let sampler: Sampler
    public let interval: Duration
    private let clock: any MonotonicClock
    private let logger: Logger
    private var core: AgentCore
    private let onSample: (Sample) -> Void
    public private(set) var samplesTaken = 0
    /// Stop after this many samples (tests and one-off measurements); nil runs until a signal.
    public var sampleLimit: Int?
    /// argv of the power-off path, run directly (no shell). nil: power-off is refused.
    public var powerOffCommand: [String]?
    private var loop: EventLoop?
    private var buttonWatch: Int?
    /// The MQTT feed, when a broker is configured.
    public var feed: FeedPublisher?
    /// Signed commands arriving on the feed.
    public var commands: CommandHandler?
    public var rebootCommand: [String]?
    private var relayTimers: [String: EventLoop.Timer] = [:]

    public init(devices: NodeDevices, sampler: Sampler, interval: Duration, clock: any MonotonicClock,
                logger: Logger, drainTimeout: Duration = .seconds(300), onSample: @escaping (Sample) -> Void = { _ in }) {
        self.devices = devices
        self.sampler = sampler
        self.interval = interval
        self.clock = clock
        self.logger = logger
        self.onSample = onSample
        core = AgentCore(hasFaultLed: devices.led(AgentCore.faultLed) != nil, drainTimeout: drainTimeout)
    }

    public func run() throws(HardwareError) {
        let loop = EventLoop()
        self.loop = loop
        var stopReason = "end of run"
        try loop.onSignals([Signal.terminate, Signal.interrupt, Signal.hangup]) { [logger, unowned loop] signo in
            if signo == Signal.hangup {
                logger.notice("SIGHUP: configuration reload is not supported; restart the service to apply changes")
                return
            }
            stopReason = signo == Signal.terminate ? "SIGTERM" : "SIGINT"
            loop.stop()
        }

        let ledTimer = try loop.makeTimer { [unowned self] in self.refreshLeds() }
        self.ledTimer = ledTimer
        let coreTimer = try loop.makeTimer { [unowned self] in
            self.apply(self.core.handle(.tick, now: self.clock.now))
            self.armCoreTimer()
        }
        self.coreTimer = coreTimer

        let sampleTimer = try loop.makeTimer { [unowned self, unowned loop] in
            self.takeSample()
            if let limit = self.sampleLimit, self.samplesTaken >= limit {
                stopReason = "sample limit reached"
                loop.stop()
            }
        }
        sampler.prime()
        // The first sample comes soon (with a short CPU window), then every interval.
        sampleTimer.arm(after: min(interval, .milliseconds(250)), every: interval)

        settleTimer = try loop.makeTimer { [unowned self] in self.settleButton() }
        watchButton()

        if let feed {
            let client = feed.client
            client.subscribe(FeedTopic.commands(feed.node))
            client.onMessage = { [unowned self] topic, payload in self.command(topic: topic, payload: payload) }
            loop.watchDynamic({ client.socket >= 0 ? (client.socket, client.wantsWrite) : nil },
                              readable: { [unowned self] in client.readable(now: self.clock.now) },
                              writable: { [unowned self] in client.writable(now: self.clock.now) })
            let mqttTimer = try loop.makeTimer { [unowned self] in client.tick(now: self.clock.now) }
            mqttTimer.arm(after: .seconds(1), every: .seconds(1))
            self.mqttTimer = mqttTimer
            feed.start(now: clock.now)
        }

        apply(core.initialActions())
        logger.info("agent running", ["board": devices.board.name, "node": sampler.node,
                                      "interval_ms": "\(interval.milliseconds)"])
        defer {
            devices.shutdownOutputs()
            feed?.goodbye()
            logger.info("agent stopped; relays powered, LEDs off, lines released", ["reason": stopReason])
        }
        try loop.run()
    }

    private var ledTimer: EventLoop.Timer?
    private var coreTimer: EventLoop.Timer?
    private var settleTimer: EventLoop.Timer?
    private var mqttTimer: EventLoop.Timer?

    /// Polls the button's edge descriptor, if the board has a button and it is open.
    func watchButton() {
        guard buttonWatch == nil, let button = devices.button, let loop else { return }
        buttonWatch = loop.watch(button.line.eventDescriptor) { [unowned self] in self.readButton() }
    }

    func takeSample() {
        if devices.gpioFault != nil, devices.retryGPIO() {
            watchButton()
            apply(core.ledActions())
        }
        let s = sampler.sample(now: clock.now, wallMs: SystemClock.wallMilliseconds)
        samplesTaken += 1
        apply(core.handle(.sample(s), now: clock.now))
        feed?.telemetry(s, now: clock.now)
        onSample(s)
    }

    func apply(_ actions: [AgentCore.Action]) {
        for a in actions {
            switch a {
            case .log(let level, let message):
                logger.log(level, message)
            case .powerOff(let reason):
                powerOff(reason: reason)
            case .event(let type, let fields):
                feed?.event(type, fields)
            case .statusChanged(let state):
                feed?.setState(state.rawValue)
            case .showLed(let name, let pattern):
                guard let led = devices.led(name) else { continue }
                do {
                    _ = try led.show(pattern, now: clock.now)
                    logger.debug("LED pattern", ["led": name, "pattern": pattern.rawValue])
                } catch {
                    logger.warning("cannot drive LED", ["led": name, "error": "\(error)"])
                }
            }
        }
        refreshLeds()
        armCoreTimer()
    }

    func command(topic: String, payload: [UInt8]) {
        guard var handler = commands else {
            logger.warning("command ignored: no command keys are configured", ["topic": topic])
            feed?.event("command-rejected", [.init("reason", "no-keys"), .init("detail", "no command keys are configured on this node")])
            return
        }
        let outcome = handler.handle(topic: topic, message: payload, nowMs: SystemClock.wallMilliseconds, logger: logger)
        commands = handler
        feed?.event(outcome.event, outcome.fields)
        guard let request = outcome.request else { return }
        let id = outcome.fields.first { $0.key == "id" }?.value ?? ""
        func result(_ outcome: String, _ detail: String = "") {
            feed?.event("command-result", [.init("id", id), .init("outcome", outcome), .init("detail", detail)])
        }
        switch request {
        case .identify(let d):
            apply(core.handle(.identify(d), now: clock.now))
            result("ok")
        case .relay(let channel, let action):
            guard let relay = devices.relay(channel) else {
                result("failed", "no relay '\(channel)' on this board")
                return
            }
            do throws(RelayError) {
                switch action {
                case "off": try relay.cut(now: clock.now)
                case "on": try relay.restore(now: clock.now)
                default:
                    try relay.cut(now: clock.now)
                    scheduleRestore(relay)
                }
                feed?.event("relay", [.init("channel", channel), .init("powered", relay.powered ? "true" : "false")])
                result("ok", action == "cycle" ? "restoring after \(relay.settings.minimumOffTime.milliseconds) ms" : "")
            } catch {
                result("failed", error.description)
            }
        case .sleep:
            let draining = core.state == .draining
            result("ok", draining ? "go-ahead: sleeping" : "draining; a second sleep command is the go-ahead")
            apply(core.handle(.sleepCommand(id), now: clock.now))
        case .reboot:
            guard let argv = rebootCommand, !argv.isEmpty else {
                result("failed", "no reboot command configured")
                return
            }
            result("ok", "rebooting")
            devices.shutdownOutputs()
            if case .failure(let e) = Command.run(argv, timeout: .seconds(30)) {
                logger.error("reboot command could not start", ["error": e.description])
            }
        case .wake(let target):
            result("unsupported", "waking \(target) arrives with the wake/sleep work")
        }
    }

    /// A cycle's second half: power back once the minimum off-time has passed.
    func scheduleRestore(_ relay: Relay) {
        guard let loop else { return }
        let name = relay.name
        guard let timer = try? loop.makeTimer({ [unowned self] in
            do {
                try relay.restore(now: self.clock.now)
                self.feed?.event("relay", [.init("channel", name), .init("powered", "true")])
            } catch {
                self.logger.error("relay restore failed", ["relay": name, "error": "\(error)"])
            }
            self.relayTimers[name] = nil
        }) else { return }
        timer.arm(after: relay.settings.minimumOffTime)
        relayTimers[name] = timer
    }

    /// Outputs to their safe state first (the node is going down), then the configured
    /// command. The agent keeps running: the system's shutdown will stop it.
    func powerOff(reason: String) {
        guard let argv = powerOffCommand, !argv.isEmpty else {
            logger.warning("power-off requested but no power_off_command is configured", ["reason": reason])
            return
        }
        logger.notice("powering off", ["reason": reason, "command": argv.joined(separator: " ")])
        devices.shutdownOutputs()
        if let w = buttonWatch { loop?.unwatch(w); buttonWatch = nil }
        switch Command.run(argv, timeout: .seconds(30)) {
        case .success(.exited(0)), .success(.running):
            break
        case .success(let outcome):
            logger.error("power-off command failed", ["command": argv.joined(separator: " "), "outcome": "\(outcome)"])
        case .failure(let e):
            logger.error("power-off command could not start", ["error": e.description])
        }
    }

    /// Steps every LED and re-arms the one-shot timer for the earliest next change.
    func refreshLeds() {
        let now = clock.now
        var next: Instant?
        for led in devices.leds {
            do {
                if let due = try led.update(now: now) { next = next.map { min($0, due) } ?? due }
            } catch {
                logger.warning("cannot drive LED", ["led": led.name, "error": "\(error)"])
            }
        }
        if let next { ledTimer?.arm(after: next.since(now)) } else { ledTimer?.disarm() }
    }

    func armCoreTimer() {
        if let d = core.nextDeadline { coreTimer?.arm(after: d.since(clock.now)) } else { coreTimer?.disarm() }
    }

    func readButton() {
        guard let line = devices.button?.line else { return }
        do {
            let edge = try line.readEvent()
            if let press = devices.updateButton({ $0.edge(edge) }) {
                apply(core.handle(.button(press), now: clock.now))
            }
            if let due = devices.button?.classifier.settleDeadline {
                settleTimer?.arm(after: due.since(clock.now))
            }
        } catch {
            logger.warning("cannot read button event", ["error": "\(error)"])
        }
    }

    func settleButton() {
        let now = clock.now
        if let press = devices.updateButton({ $0.settle(now: now) }) {
            apply(core.handle(.button(press), now: now))
        }
        if let due = devices.button?.classifier.settleDeadline, due > now {
            settleTimer?.arm(after: due.since(now))
        }
    }
}
