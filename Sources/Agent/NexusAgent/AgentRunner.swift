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
    /// How the node powers off when it sleeps. nil: power-off is refused.
    public var powerOff: PowerOffPath?
    /// How this node is woken (its Wake-on-LAN arming is checked) and whom it wakes.
    public var wake = NodeWake()
    public var wakeTargets: [String: WakeTarget] = [:]
    private var wakeTimers: [String: EventLoop.Timer] = [:]
    private var wolTimer: EventLoop.Timer?
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
            feed.wake = wake
            feed.wakeTargets = wakeTargets.mapValues(\.method)
            feed.start(now: clock.now)
        }
        checkPowerOffPath()
        if wake.method == .wol {
            checkWakeOnLAN()
            // NICs lose their arming at boot or on a driver reload: keep looking.
            let t = try loop.makeTimer { [unowned self] in self.checkWakeOnLAN() }
            t.arm(after: .seconds(60), every: .seconds(60))
            wolTimer = t
        }

        apply(core.initialActions())
        // systemd's watchdog is fed from this loop, so a stuck loop (a hung ioctl, a
        // deadlock) stops the pings and systemd restarts the agent.
        if let watchdog = ServiceManager.watchdogInterval {
            let t = try loop.makeTimer { ServiceManager.notify("WATCHDOG=1") }
            t.arm(after: watchdog / 2, every: watchdog / 2)
            watchdogTimer = t
        }
        logger.info("agent running", ["board": devices.board.name, "node": sampler.node,
                                      "interval_ms": "\(interval.milliseconds)"])
        let ready = ServiceManager.send("READY=1\nSTATUS=running on \(devices.board.name) as \(sampler.node)"
            + (feed.map { ", feed to \($0.client.settings.broker)" } ?? ""))
        if ready < 0 {
            // systemd waits for this (Type=notify) and would time the start out.
            logger.error("could not tell systemd the agent is ready", ["errno": "\(-ready)"])
        }
        defer {
            ServiceManager.notify("STOPPING=1\nSTATUS=stopping: outputs to their safe state")
            devices.shutdownOutputs()
            feed?.goodbye()
            logger.info("agent stopped; relays powered, LEDs off, lines released", ["reason": stopReason])
        }
        try loop.run()
    }

    private var ledTimer: EventLoop.Timer?
    private var watchdogTimer: EventLoop.Timer?
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
            outputsToSafeState()
            if case .failure(let e) = Command.run(argv, timeout: .seconds(30)) {
                logger.error("reboot command could not start", ["error": e.description])
            }
        case .wake(let target):
            let (outcome, detail) = wake(target)
            result(outcome, detail)
        }
    }

    /// Carries out a `wake` for another node with the method the config gives for it.
    /// Returns the command's outcome; the `wake` events say what happened on the wire.
    func wake(_ target: String) -> (String, String) {
        func failed(_ method: String, _ detail: String) -> (String, String) {
            logger.warning("wake failed", ["target": target, "method": method, "error": detail])
            wakeEvent(target, method, "failed", detail)
            return ("failed", detail)
        }
        func started(_ method: String, _ outcome: String, _ detail: String) -> (String, String) {
            logger.notice("waking node", ["target": target, "method": method, "detail": detail])
            wakeEvent(target, method, outcome, detail)
            return ("ok", detail)
        }
        guard let how = wakeTargets[target] else {
            let known = wakeTargets.keys.sorted()
            return failed("none", "unknown target node '\(target)': this agent wakes "
                + (known.isEmpty ? "no nodes (wake_targets is empty)" : known.joined(separator: ", ")))
        }
        let now = clock.now
        switch how {
        case .wol(let mac, let interface, let raw, let password):
            let packet = WakeOnLAN.magicPacket(mac, password: password)
            do throws(HardwareError) {
                if raw, let interface {
                    try WakeOnLAN.sendRaw(packet, to: mac, interface: interface)
                    return started("wol", "sent", "magic packet for \(mac) sent as a raw 0x0842 frame on \(interface)")
                }
                try WakeOnLAN.sendUDP(packet, interface: interface)
                return started("wol", "sent", "magic packet for \(mac) sent by UDP broadcast to port 9"
                    + (interface.map { " on \($0)" } ?? ""))
            } catch {
                return failed("wol", error.description)
            }
        case .poeRelay(let name):
            guard let relay = devices.relay(name) else {
                return failed("poe-relay", "relay \(name) is not available (GPIO: \(devices.gpioFault ?? "not open"))")
            }
            do throws(RelayError) {
                if relay.powered {
                    try relay.cut(now: now)
                    feed?.event("relay", [.init("channel", name), .init("powered", "false")])
                }
            } catch {
                return failed("poe-relay", error.description)
            }
            let wait = scheduleRestore(relay) { [unowned self] ok in
                self.wakeEvent(target, "poe-relay", ok ? "powered" : "failed",
                               ok ? "relay \(name) on again" : "relay \(name) could not be switched on")
            }
            return started("poe-relay", "cycling", "relay \(name) off; on again in \(wait.milliseconds) ms")
        case .gpioPulse:
            guard let line = devices.wakeLines[target] else {
                return failed("gpio-pulse", "the wake line for \(target) is not available (GPIO: \(devices.gpioFault ?? "not open"))")
            }
            let until: Instant
            do throws(WakeLineError) { until = try line.start(now: now) } catch { return failed("gpio-pulse", error.description) }
            guard let loop, let timer = try? loop.makeTimer({ [unowned self] in
                var outcome = "pulsed", detail = "\(line.lineName) released after \(line.pulse.milliseconds) ms"
                do { try line.release() } catch { outcome = "failed"; detail = "could not release \(line.lineName): \(error)" }
                self.wakeEvent(target, "gpio-pulse", outcome, detail)
                self.wakeTimers[target] = nil
            }) else {
                try? line.release()
                return failed("gpio-pulse", "no timer for the pulse's end; line released")
            }
            timer.arm(after: until.since(now))
            wakeTimers[target] = timer
            return started("gpio-pulse", "pulling", "\(line.lineName) held low for \(line.pulse.milliseconds) ms")
        }
    }

    /// One step of waking another node, on the feed (docs/feed.md).
    func wakeEvent(_ target: String, _ method: String, _ outcome: String, _ detail: String) {
        feed?.event("wake", [.init("target", target), .init("method", method), .init("outcome", outcome), .init("detail", detail)])
    }

    /// Reads the NIC's Wake-on-LAN arming and puts it, with a warning when it will not
    /// wake the node, into the status.
    func checkWakeOnLAN() {
        guard wake.method == .wol, let interface = wake.interface else { return }
        var armed: Bool?
        var warnings: [String] = []
        do throws(HardwareError) {
            let state = try WakeOnLAN.armedState(interface: interface)
            armed = state.magicArmed
            if !state.magicSupported {
                warnings.append("\(interface) cannot wake on a magic packet: this node declares wol but its NIC does not support it")
            } else if !state.magicArmed {
                warnings.append("Wake-on-LAN is not armed on \(interface): a magic packet will not wake this node (ethtool -s \(interface) wol g, or a .link file: docs/wake.md)")
            }
        } catch {
            warnings.append("cannot tell whether Wake-on-LAN is armed on \(interface): \(error)")
        }
        // Logged when it changes, not every minute.
        if lastWakeCheck.map({ $0.armed != armed || $0.warnings != warnings }) ?? true {
            if warnings.isEmpty {
                logger.info("Wake-on-LAN armed", ["interface": interface])
            } else {
                for w in warnings { logger.warning(w) }
            }
            lastWakeCheck = (armed, warnings)
        }
        feed?.setWakeState(armed: armed, warnings: warnings)
    }
    private var lastWakeCheck: (armed: Bool?, warnings: [String])?

    /// Says at start whether the power-off path will work, rather than at the moment it is needed.
    func checkPowerOffPath() {
        switch powerOff {
        case nil:
            logger.warning("no power-off path configured: sleep requests will drain but not power off")
        case .command(let argv)?:
            logger.info("power-off path", ["command": argv.joined(separator: " ")])
        case .simulated?:
            logger.info("power-off path", ["via": "simulation (a sleeping simulated node halts; this machine stays up)"])
        case .logind?:
            do throws(HardwareError) {
                let answer = try Logind.canPowerOff()
                if answer == "yes" {
                    logger.info("power-off path", ["via": "systemd-logind", "CanPowerOff": answer])
                } else {
                    logger.warning("systemd-logind will not power off for this user", ["CanPowerOff": answer,
                        "hint": "install the polkit rule in docs/wake.md, or set power_off: command"])
                }
            } catch {
                logger.warning("systemd-logind is not reachable; power-off will fail until it is", ["error": error.description])
            }
        }
    }

    /// A cycle's second half: power back once the minimum off-time since the cut has
    /// passed. Returns how long that is from now.
    @discardableResult
    func scheduleRestore(_ relay: Relay, then done: @escaping (Bool) -> Void = { _ in }) -> Duration {
        let name = relay.name
        let now = clock.now
        let wait = max(.zero, relay.settings.minimumOffTime - (relay.lastCut.map { now.since($0) } ?? .zero))
        guard let loop, let timer = try? loop.makeTimer({ [unowned self] in
            do {
                try relay.restore(now: self.clock.now)
                self.feed?.event("relay", [.init("channel", name), .init("powered", "true")])
                done(true)
            } catch {
                self.logger.error("relay restore failed", ["relay": name, "error": "\(error)"])
                done(false)
            }
            self.relayTimers[name] = nil
        }) else { return wait }
        // A timer armed for zero would never fire.
        timer.arm(after: max(wait, .milliseconds(1)))
        relayTimers[name] = timer
        return wait
    }

    /// Outputs to their safe state first (the node is going down), then the configured
    /// path. The agent keeps running: the system's shutdown will stop it. If the path
    /// fails, the core returns to awake and says why.
    func powerOff(reason: String) {
        // `sleeping` and `power-off` must reach the broker before the network goes down.
        if let client = feed?.client, client.connected, !client.deliverPending(timeout: .seconds(3), clock: clock) {
            logger.warning("powering off before the broker acknowledged the last status and events",
                           ["unacknowledged": "\(client.unacknowledged.count)"])
        }
        var failure: String?
        switch powerOff {
        case nil:
            failure = "no power-off path is configured"
        case .simulated?:
            logger.notice("simulated node halted; this machine stays up", ["reason": reason])
            outputsToSafeState()
        case .logind?:
            logger.notice("powering off", ["reason": reason, "via": "systemd-logind PowerOff"])
            outputsToSafeState()
            do throws(HardwareError) { try Logind.powerOff() } catch { failure = error.description }
        case .command(let argv)?:
            logger.notice("powering off", ["reason": reason, "command": argv.joined(separator: " ")])
            outputsToSafeState()
            switch Command.run(argv, timeout: .seconds(30)) {
            case .success(.exited(0)), .success(.running):
                break
            case .success(let outcome):
                failure = "\(argv.joined(separator: " ")): \(outcome)"
            case .failure(let e):
                failure = "\(argv.joined(separator: " ")) could not start: \(e.description)"
            }
        }
        if let failure {
            // Still running: LEDs, relays, wake lines and the button come back, and the
            // node stays in service.
            if devices.gpioChip == nil, devices.reopen() { watchButton() }
            apply(core.handle(.powerOffFailed(failure), now: clock.now))
        }
    }

    /// The button's descriptor leaves the poll set before its line is released.
    func outputsToSafeState() {
        if let w = buttonWatch { loop?.unwatch(w); buttonWatch = nil }
        devices.shutdownOutputs()
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
