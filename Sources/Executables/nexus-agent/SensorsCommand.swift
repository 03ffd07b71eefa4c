import NexusAgent
import NexusBoards
import NexusHardware

let sensorsSpec = CommandSpec(
    path: "sensors", usage: "sensors [--board NAME|FILE | --config FILE] [--json]",
    summary: "Print one reading of every sensor: INA219 power meters, hwmon temperatures (libsensors), CPU, load and memory.",
    options: boardOptions + [
        OptionSpec(name: "json", value: nil, help: "Print JSON (schema: docs/sensors-json.md) instead of a table."),
        OptionSpec(name: "sensors-config", value: "FILE", help: "A sensors.conf for libsensors (labels, computes)."),
        OptionSpec(name: "window-ms", value: "MS", help: "CPU utilisation window before the reading (default 250)."),
        OptionSpec(name: "rate", value: "N", help: "Read each power meter N times back to back and print the rate achieved, against the chip's conversion time (a bus check; docs/benchmarks.md)."),
    ],
    discussion: """
    Exit status: 0 when every configured power meter answered, 1 when any failed (the
    others are still printed), 2 for a usage error.
    Examples:
      nexus-agent sensors                    # the simulated board
      nexus-agent sensors --board pi4b --json
      nexus-agent sensors --board pi4b --rate 1000   # how fast this bus delivers readings
    """)

func sensorsCommand(_ args: ParsedArguments) throws(CommandFailure) -> Int32 {
    var setup = try makeSetup(args, spec: sensorsSpec)
    // One-shot output: only warnings and worse on stderr unless asked.
    if args.value("log-level") == nil && setup.config.logLevel == .info { setup.logger.minimum = .warning }
    let window: Double
    do { window = try args.number("window-ms", spec: sensorsSpec, range: 0...10_000) ?? 250 } catch { throw .usage(error) }
    var options = NodeDevices.Options()
    options.outputs = false
    options.button = false
    options.sensorsConfig = args.value("sensors-config") ?? setup.config.sensorsConfig
    let clock = SystemClock()
    let devices = try open(setup, options, clock)
    let rate: Double?
    do { rate = try args.number("rate", spec: sensorsSpec, range: 1...10_000_000) } catch { throw .usage(error) }
    if let rate { return readRate(devices, count: Int(rate), clock: clock) }
    let sampler = Sampler(devices: devices, node: setup.node, logger: setup.logger)
    sampler.prime()
    if window > 0 { sleepFor(.milliseconds(Int64(window))) }
    let sample = sampler.sample(now: clock.now, wallMs: SystemClock.wallMilliseconds)
    if args.flag("json") {
        print(sample.jsonText(pretty: true))
    } else {
        print(table(sample, board: setup.board))
    }
    for p in sample.power {
        if let e = p.error { printError("sensor \(p.name): \(e)") }
    }
    return sample.power.contains { $0.error != nil } ? 1 : 0
}

/// Reads each meter `count` times as fast as it answers. Over I2C a reading is five SMBus
/// word reads (calibration check, bus, shunt, current, power); through hwmon it is one
/// libsensors sweep of every chip, as in a sample.
func readRate(_ devices: NodeDevices, count: Int, clock: SystemClock) -> Int32 {
    var failed = false
    if devices.meters.isEmpty { printError("this board has no power meters"); return 1 }
    for m in devices.meters {
        let readOnce = { m.read(hwmon: m.viaHwmon ? devices.hwmon?.readAll() ?? [] : []) }
        let conversion = m.config.settings.shuntADC.conversionMicroseconds + m.config.settings.busADC.conversionMicroseconds
        // The first read opens and configures the chip: not part of the rate.
        if case .failure(let e) = readOnce() {
            printError("sensor \(m.config.name): \(e)"); failed = true; continue
        }
        var errors = 0
        var fresh = 0
        let start = clock.now
        for _ in 0..<count {
            switch readOnce() {
            case .success(let r): if r.conversionReady { fresh += 1 }
            case .failure: errors += 1
            }
        }
        let seconds = Double(clock.now.since(start).nanosecondsClamped) / 1e9
        let each = seconds * 1e6 / Double(count)
        var line = "\(m.config.name) (\(m.config.address), \(m.source)): \(count) readings in \(fixed(seconds, 3)) s: "
            + "\(fixed(Double(count) / seconds, 0)) readings/s, \(fixed(each, 1)) µs each"
        if !m.viaHwmon && !m.simulated { line += " (\(fixed(each / 5, 1)) µs per SMBus transfer)" }
        line += "; the chip converts shunt and bus every \(conversion) µs"
        line += each < Double(conversion) ? ": faster than the chip, so readings repeat" : ": the read path is the bound"
        if !m.simulated { line += "; conversion-ready set in \(fresh) of them" }
        if errors > 0 { line += "; \(errors) failed"; failed = true }
        print(line)
    }
    return failed ? 1 : 0
}

func table(_ s: Sample, board: Board) -> String {
    var out = "node \(s.node) · board \(board.name) (\(board.model))\n"
    if !s.power.isEmpty {
        out += "\nPower\n"
        out += "  " + "SENSOR".padded(22) + "SOURCE".padded(11) + "BUS V".padded(9) + "SHUNT mV".padded(10)
            + "CURRENT A".padded(11) + "POWER W\n"
        for p in s.power {
            let name = "\(p.name) (\(p.address))"
            if let r = p.reading {
                out += "  " + name.padded(22) + p.source.padded(11) + fixed(r.busVolts, 3).padded(9)
                    + fixed(r.shuntVolts * 1000, 2).padded(10)
                    + (r.amps.map { fixed($0, 4) } ?? "OVERFLOW").padded(11)
                    + (r.watts.map { fixed($0, 3) } ?? "OVERFLOW") + "\n"
            } else {
                out += "  " + name.padded(22) + p.source.padded(11) + "ERROR: \(p.error ?? "?")\n"
            }
        }
        if let t = s.totalWatts { out += "  total \(fixed(t, 3)) W\n" }
    }
    out += "\nTemperatures\n"
    if s.temperatures.isEmpty { out += "  (none: libsensors found no temperature inputs)\n" }
    for t in s.temperatures {
        let v = t.celsius.map { "+" + fixed($0, 1) + " °C" } ?? "ERROR: \(t.error ?? "?")"
        out += "  " + t.chip.padded(28) + t.label.padded(14) + v + (t.alarm ? "  ALARM" : "") + "\n"
    }
    if !s.otherHwmon.isEmpty {
        out += "\nOther hwmon inputs\n"
        for h in s.otherHwmon {
            out += "  " + h.chip.padded(28) + h.label.padded(14) + (h.value.map { fixed($0, 3) } ?? "ERROR") + " "
                + h.kind.rawValue + (h.alarm ? "  ALARM" : "") + "\n"
        }
    }
    out += "\nSystem\n"
    out += "  cpu " + (s.cpuUtilisation.map { fixed($0 * 100, 1) + " %" } ?? "-")
    if let l = s.load { out += "   load \(fixed(l.one, 2)) \(fixed(l.five, 2)) \(fixed(l.fifteen, 2))" }
    if let m = s.memory {
        out += "   memory \(fixed(m.usedFraction * 100, 1)) % of \(fixed(Double(m.totalKiB) / 1_048_576, 1)) GiB"
    }
    if !s.faults.isEmpty { out += "\n\nFaults\n" + s.faults.map { "  " + $0 }.joined(separator: "\n") }
    return out
}
