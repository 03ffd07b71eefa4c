public import NexusBoards
internal import NexusDrivers
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

    public init(devices: NodeDevices, sampler: Sampler, interval: Duration, clock: any MonotonicClock,
                logger: Logger, onSample: @escaping (Sample) -> Void = { _ in }) {
        self.devices = devices
        self.sampler = sampler
        self.interval = interval
        self.clock = clock
        self.logger = logger
        self.onSample = onSample
        core = AgentCore(hasFaultLed: devices.led(AgentCore.faultLed) != nil)
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
        feed?.telemetry(s)
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
