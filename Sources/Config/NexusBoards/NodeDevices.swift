public import NexusDrivers
public import NexusHardware
public import NexusSimulation

/// A board's devices, opened: power meters, the hwmon source, LEDs, relays and button.
/// On the `sim` board everything sits on simulated devices; the drivers are the same.
public final class NodeDevices {
    public let board: Board
    public let meters: [PowerMeter]
    public let hwmon: (any HwmonSource)?
    public let simulation: SimulatedNode?
    public private(set) var gpioChip: (any GPIOChipAccess)?
    public private(set) var leds: [Led] = []
    public private(set) var relays: [Relay] = []
    public private(set) var button: (line: any GPIOInputLine, classifier: ButtonClassifier)?
    /// Outputs wired to neighbours' wake inputs, by target node.
    public private(set) var wakeLines: [String: WakeLine] = [:]
    private let logger: Logger

    public struct Options: Sendable {
        public var sensors = true
        public var outputs = true
        public var button = true
        public var sensorsConfig: String?
        public var consumer = "nexus-agent"
        /// Keep running without GPIO when the chip is missing (the agent loop).
        public var gpioOptional = false
        /// The config's wake targets; gpio-pulse ones get their output line.
        public var wakeTargets: [String: WakeTarget] = [:]
        /// Simulated boards: the node's load from this file (SimulatedNode.loadFile).
        public var simulatedLoadFile: String?
        public init() {}
    }

    public enum OpenError: Error, Sendable, CustomStringConvertible {
        case gpio(HardwareError)
        case hwmon(HardwareError)
        public var description: String {
            switch self {
            case .gpio(let e): "GPIO: \(e)"
            case .hwmon(let e): "libsensors: \(e)"
            }
        }
    }

    public init(board: Board, options: Options, clock: any MonotonicClock, logger: Logger,
                proc: ProcFS = ProcFS()) throws(OpenError) {
        self.board = board
        self.logger = logger
        let bus = board.i2cBus ?? 0

        if board.simulated {
            let sim = SimulatedNode(parameters: .init(idleWatts: board.power.idleWatts, maxWatts: board.power.maxWatts,
                                                      supplyVolts: board.power.supplyVolts), proc: proc)
            sim.loadFile = options.simulatedLoadFile
            simulation = sim
            hwmon = sim
            meters = board.sensors.map { s in
                let model = Ina219Model(deviceName: "/dev/i2c-\(bus) (simulated)", address: s.address)
                sim.attach(model, shuntOhms: Double(s.settings.shuntMicroohms) / 1e6)
                return PowerMeter(config: s, bus: bus, logger: logger, simulated: true,
                                  openDevice: { () throws(HardwareError) -> any I2CDevice in model })
            }
            sim.update(now: clock.now)
        } else {
            simulation = nil
            if options.sensors {
                do { hwmon = try LibSensors(configPath: options.sensorsConfig) } catch { throw .hwmon(error) }
            } else {
                hwmon = nil
            }
            meters = board.sensors.map { s in
                PowerMeter(config: s, bus: bus, logger: logger, openDevice: { () throws(HardwareError) -> any I2CDevice in
                    try I2CBusDevice(path: "/dev/i2c-\(bus)", address: s.address)
                })
            }
        }

        self.options = options
        self.clock = clock
        guard options.outputs || options.button else { return }
        // A board that names no lines (a workstation with meters only) needs no chip:
        // without this it would report a missing one, and look for it, at every sample.
        let wakePulses = options.wakeTargets.values.contains { if case .gpioPulse = $0 { true } else { false } }
        usesLines = (options.outputs && (!board.relays.isEmpty || !board.leds.isEmpty || wakePulses))
            || (options.button && board.button != nil)
        guard usesLines else {
            logger.info("no GPIO lines on this board; the GPIO chip is not opened", ["board": board.name])
            return
        }
        do {
            try openGPIO()
        } catch {
            // The agent keeps measuring without its GPIO and retries (`retryGPIO`); the
            // test commands need the chip and fail instead.
            guard options.gpioOptional else { throw error }
            gpioFault = error.description
            logger.error("GPIO unavailable; running without LEDs, relays and button until it appears",
                         ["error": error.description])
        }
    }

    private let options: Options
    private let clock: any MonotonicClock
    private var usesLines = false
    /// Why the GPIO chip or its lines could not be opened, while that is so.
    public private(set) var gpioFault: String?

    private func openGPIO() throws(OpenError) {
        let chip: any GPIOChipAccess
        do {
            chip = board.simulated
                ? SimulatedGPIOChip(label: board.gpio.chipLabel, lineNames: board.gpio.lineNames, clock: clock)
                : try GPIOChip.open(label: board.gpio.chipLabel)
        } catch { throw .gpio(error) }

        do throws(HardwareError) {
            if options.outputs {
                for r in board.relays {
                    // Requested at the powered level, and written back there by the crash guard.
                    let safe = r.settings.level(powered: true)
                    let line = try chip.requestOutput(r.line, consumer: options.consumer, initial: safe,
                                                      drive: .pushPull, crashLevel: safe)
                    relays.append(Relay(settings: r.settings, line: line))
                }
                for l in board.leds {
                    let dark = Led.darkLevel(activeLow: l.activeLow)
                    let line = try chip.requestOutput(l.line, consumer: options.consumer, initial: dark,
                                                      drive: .pushPull, crashLevel: dark)
                    leds.append(Led(name: l.name, line: line, activeLow: l.activeLow, timings: board.ledTimings, now: clock.now))
                }
                for (target, how) in options.wakeTargets.sorted(by: { $0.key < $1.key }) {
                    guard case .gpioPulse(let name, let pulse, let drive) = how else { continue }
                    // Released (high) from the first moment: a neighbour must not see a pulse
                    // because this agent started or died.
                    let line = try chip.requestOutput(.name(name), consumer: options.consumer, initial: true,
                                                      drive: drive, crashLevel: true)
                    wakeLines[target] = WakeLine(target: target, line: line, pulse: pulse)
                }
            }
            if options.button, let b = board.button {
                let line = try chip.requestInput(b.line, consumer: options.consumer, bias: b.bias, edge: .both)
                button = (line, ButtonClassifier(settings: b.settings))
            }
        } catch {
            // Whatever was requested goes back to its safe state before the error surfaces.
            shutdownOutputs()
            throw .gpio(error)
        }
        gpioChip = chip
        gpioFault = nil
        logger.info("devices ready", ["board": board.name, "gpio.chip": chip.label,
                                      "relays": "\(relays.count)", "leds": "\(leds.count)",
                                      "button": button == nil ? "no" : "yes", "meters": "\(meters.count)",
                                      "wake_lines": "\(wakeLines.count)"])
    }

    /// Tries the GPIO chip again after it was missing; true when it is now open. Quiet
    /// while it stays missing: the agent retries at every sample.
    public func retryGPIO() -> Bool {
        guard gpioFault != nil, openGPIOAgain() else { return false }
        logger.notice("GPIO available again", ["gpio.chip": board.gpio.chipLabel])
        return true
    }

    private func openGPIOAgain() -> Bool {
        do {
            try openGPIO()
            return true
        } catch {
            gpioFault = error.description
            return false
        }
    }

    /// Opens the outputs again after `shutdownOutputs` (a power-off that did not happen).
    public func reopen() -> Bool {
        guard usesLines else { return true }
        guard openGPIOAgain() else {
            logger.error("GPIO could not be reopened", ["error": gpioFault ?? ""])
            return false
        }
        return true
    }

    public func led(_ name: String) -> Led? { leds.first { $0.name == name } }
    public func relay(_ name: String) -> Relay? { relays.first { $0.name == name } }

    public func updateButton(_ f: (inout ButtonClassifier) -> ButtonPress?) -> ButtonPress? {
        guard var b = button else { return nil }
        let press = f(&b.classifier)
        button = b
        return press
    }

    /// Relays to powered, LEDs dark, lines released: the documented safe state.
    public func shutdownOutputs() {
        for r in relays {
            do { try r.returnToSafeState() } catch {
                logger.error("could not return relay to its safe state", ["relay": r.name, "error": "\(error)"])
            }
        }
        for l in leds { try? l.turnOff() }
        for w in wakeLines.values {
            do { try w.release() } catch {
                logger.error("could not release wake line", ["target": w.target, "error": "\(error)"])
            }
        }
        relays.removeAll()
        leds.removeAll()
        wakeLines.removeAll()
        button = nil
        gpioChip = nil
    }
}

extension NodeDevices {
    /// The in-memory chip the sim board uses, for listing.
    public static func simulatedChip(for board: Board) -> any GPIOChipAccess {
        SimulatedGPIOChip(label: board.gpio.chipLabel, lineNames: board.gpio.lineNames, clock: SystemClock())
    }
}
