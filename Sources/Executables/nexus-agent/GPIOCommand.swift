import NexusAgent
import NexusBoards
import NexusDrivers
import NexusHardware

let gpioSpec = CommandSpec(
    path: "gpio", usage: "gpio list | led NAME PATTERN | relay NAME off|cycle | button  [--board NAME|FILE | --config FILE] [--seconds S]",
    summary: "Test the board's GPIO: list lines, show an LED pattern, cut a relay, watch the button.",
    options: boardOptions + [
        OptionSpec(name: "seconds", value: "S", help: "How long to show the LED pattern, hold the relay off, or watch the button (default 5, 10, 30)."),
    ],
    discussion: """
    Actions:
      list                   the board's GPIO chip and its lines (name, consumer, direction and drive)
      led NAME PATTERN       PATTERN: off, on, blink, heartbeat, fault, identify
      relay NAME off         cut power for --seconds (at least the relay's minimum off-time), then restore it
      relay NAME cycle       cut power for the minimum off-time, then restore it
      button                 print each press (short, long, very-long) as it is classified
    Every action ends with the outputs in their safe state (relays powered, LEDs dark):
    a relay cannot be left off by this command. Stop the agent service first if it holds
    the lines (EBUSY otherwise).
    """)

func gpioCommand(_ args: ParsedArguments) throws(CommandFailure) -> Int32 {
    let setup = try makeSetup(args, spec: gpioSpec)
    let action = args.positionals.first ?? ""
    let seconds: Double?
    do { seconds = try args.number("seconds", spec: gpioSpec, range: 0.1...86_400) } catch { throw .usage(error) }
    let clock = SystemClock()
    var options = NodeDevices.Options()
    options.sensors = false
    options.consumer = "nexus-agent-gpio"
    options.outputs = action != "button" && action != "list"
    options.button = action == "button"
    func usage(_ m: String) -> CommandFailure { .usage(UsageError(message: m, command: "gpio")) }

    switch action {
    case "list":
        return try listLines(setup)
    case "led":
        guard args.positionals.count == 3 else { throw usage("gpio led needs NAME and PATTERN") }
        guard let pattern = LedPattern(rawValue: args.positionals[2]) else {
            throw usage("unknown pattern '\(args.positionals[2])'; one of: " + LedPattern.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let devices = try open(setup, options, clock)
        guard let led = devices.led(args.positionals[1]) else {
            throw usage("board \(setup.board.name) has no LED '\(args.positionals[1])'; it has: " + setup.board.leds.map(\.name).joined(separator: ", "))
        }
        return try timedLoop(devices, clock, setup.logger, seconds: seconds ?? 5) { (loop, ledTimer) throws(HardwareError) in
            let next = try led.show(pattern, now: clock.now)
            print("LED \(led.name): \(pattern.rawValue) for \(fixed(seconds ?? 5, 1)) s")
            if let next { ledTimer.arm(after: next.since(clock.now)) }
        } onLedTimer: { ledTimer in
            if let next = try? led.update(now: clock.now) { ledTimer.arm(after: next.since(clock.now)) }
        }
    case "relay":
        guard args.positionals.count == 3, ["off", "cycle"].contains(args.positionals[2]) else {
            throw usage("gpio relay needs NAME and off or cycle")
        }
        let devices = try open(setup, options, clock)
        guard let relay = devices.relay(args.positionals[1]) else {
            throw usage("board \(setup.board.name) has no relay '\(args.positionals[1])'; it has: " + setup.board.relays.map(\.settings.name).joined(separator: ", "))
        }
        let minimum = relay.settings.minimumOffTime.seconds
        let hold = args.positionals[2] == "cycle" ? minimum : max(seconds ?? 10, minimum)
        do { try relay.cut(now: clock.now) } catch {
            devices.shutdownOutputs()
            throw .failed("\(error)")
        }
        print("relay \(relay.name): power cut; restoring in \(fixed(hold, 1)) s")
        let code = try timedLoop(devices, clock, setup.logger, seconds: hold) { _, _ in } onLedTimer: { _ in }
        do { try relay.restore(now: clock.now) } catch {
            setup.logger.warning("restore refused; the safe-state return restores it", ["error": "\(error)"])
        }
        print("relay \(relay.name): power restored")
        return code
    case "button":
        let devices = try open(setup, options, clock)
        guard devices.button != nil else { throw usage("board \(setup.board.name) has no button") }
        print("watching the button for \(fixed(seconds ?? 30, 0)) s (Ctrl-C to stop)")
        return try timedLoop(devices, clock, setup.logger, seconds: seconds ?? 30) { (loop, _) throws(HardwareError) in
            guard let line = devices.button?.line else { return }
            let settle = try loop.makeTimer {
                let now = clock.now
                if let press = devices.updateButton({ $0.settle(now: now) }) {
                    writeLine("press: \(press.rawValue)")
                }
            }
            loop.watch(line.eventDescriptor) {
                guard let e = try? line.readEvent() else { return }
                if let press = devices.updateButton({ $0.edge(e) }) { writeLine("press: \(press.rawValue)") }
                if let due = devices.button?.classifier.settleDeadline { settle.arm(after: due.since(clock.now)) }
            }
        } onLedTimer: { _ in }
    default:
        throw usage(action.isEmpty ? "gpio needs an action: list, led, relay or button" : "unknown gpio action '\(action)'")
    }
}


/// Runs an event loop for `seconds` (or until SIGINT/SIGTERM), then puts outputs back.
func timedLoop(_ devices: NodeDevices, _ clock: SystemClock, _ logger: Logger, seconds: Double,
               setup: (EventLoop, EventLoop.Timer) throws(HardwareError) -> Void,
               onLedTimer: @escaping (EventLoop.Timer) -> Void) throws(CommandFailure) -> Int32 {
    let loop = EventLoop()
    defer { devices.shutdownOutputs() }
    do throws(HardwareError) {
        try loop.onSignals([Signal.terminate, Signal.interrupt]) { [unowned loop] _ in loop.stop() }
        let end = try loop.makeTimer { [unowned loop] in loop.stop() }
        end.arm(after: .milliseconds(Int64(seconds * 1000)))
        var ledTimerRef: EventLoop.Timer?
        let ledTimer = try loop.makeTimer { if let t = ledTimerRef { onLedTimer(t) } }
        ledTimerRef = ledTimer
        try setup(loop, ledTimer)
        try loop.run()
        _ = end
    } catch {
        throw .devices("\(error)")
    }
    return 0
}

func listLines(_ setup: Setup) throws(CommandFailure) -> Int32 {
    let chip: any GPIOChipAccess
    do {
        chip = setup.board.simulated
            ? NodeDevices.simulatedChip(for: setup.board)
            : try GPIOChip.open(label: setup.board.gpio.chipLabel)
    } catch {
        throw .devices("GPIO: \(error)")
    }
    let lines: [GPIOLineInfo]
    do { lines = try chip.lines() } catch { throw .devices("GPIO: \(error)") }
    print("\(chip.chipName) [\(chip.label)] \(lines.count) lines" + (setup.board.simulated ? " (simulated)" : " (libgpiod v\(GPIOChip.libgpiodAPI) API)"))
    let roles = roleMap(setup.board)
    for l in lines {
        let role = roles[l.name] ?? roles["offset \(l.offset)"] ?? ""
        print("  line " + String(l.offset).padded(4) + (l.name.isEmpty ? "unnamed" : l.name).padded(12)
              + (l.used ? "used by \(l.consumer.isEmpty ? "kernel" : l.consumer)" : "unused").padded(28)
              + (l.used ? (l.output ? "output " + l.drive.rawValue : "input") : "").padded(20) + role)
    }
    return 0
}

func roleMap(_ b: Board) -> [String: String] {
    var m: [String: String] = [:]
    for l in b.leds { m[l.line.description] = "LED \(l.name)" }
    for r in b.relays { m[r.line.description] = "relay \(r.settings.name)" }
    if let btn = b.button { m[btn.line.description] = "button" }
    if let w = b.power.wakeLine { m[w] = (m[w].map { $0 + ", " } ?? "") + "wake input" }
    return m
}
