public import NexusYAML
internal import NexusDrivers
internal import NexusHardware

/// Reads board files. Every rule a wrong file could break is checked here, with the
/// file, line and key in the message: unknown keys, bad or reserved pins, lines used
/// twice, INA219 settings the chip cannot do.
public enum BoardLoader {
    public static func load(text: String, file: String) throws(YAMLError) -> Board {
        guard let root = try YAML.parse(text, file: file) else {
            throw YAMLError(file: file, mark: nil, message: "the board file is empty")
        }
        let o = try YAMLObject(root, file: file, path: "")
        let name = try o.requiredString("board")
        let model = try o.string("model") ?? name
        let simulated = try o.bool("simulated") ?? false
        let i2c = try o.object("i2c")
        let i2cBus = try i2c?.integer("bus", in: 0...255)
        try i2c?.finish()

        guard let g = try o.object("gpio") else { throw YAMLError(file: file, mark: o.mark, message: "gpio is required") }
        let layout = Board.GPIOLayout(
            chipLabel: try g.requiredString("chip"),
            linePrefix: try g.string("line_prefix") ?? "GPIO",
            firstLine: try g.integer("first_line", in: 0...1023) ?? 0,
            lastLine: try g.integer("last_line", in: 0...1023) ?? 27)
        guard layout.firstLine <= layout.lastLine else {
            throw g.error("last_line", "must not be below first_line")
        }
        try g.finish()

        var lines = LineBook(file: file, layout: layout, i2cBus: i2cBus)

        var leds: [Board.LedConfig] = []
        for l in try o.objects("leds") {
            let name = try l.requiredString("name")
            let line = try lines.claim(l, key: "line", use: "LED \(name)")
            leds.append(Board.LedConfig(name: name, line: line, activeLow: try l.bool("active_low") ?? false))
            try l.finish()
        }
        try unique(leds.map(\.name), what: "LED", in: o, key: "leds")

        var timings = LedTimings()
        if let t = try o.object("led_timings") {
            func ms(_ key: String, _ current: Duration) throws(YAMLError) -> Duration {
                try t.integer(key, in: 10...60_000).map { .milliseconds($0) } ?? current
            }
            timings.blinkOn = try ms("blink_on_ms", timings.blinkOn)
            timings.blinkOff = try ms("blink_off_ms", timings.blinkOff)
            timings.heartbeatBeat = try ms("heartbeat_beat_ms", timings.heartbeatBeat)
            timings.heartbeatRest = try ms("heartbeat_rest_ms", timings.heartbeatRest)
            timings.faultOn = try ms("fault_on_ms", timings.faultOn)
            timings.faultOff = try ms("fault_off_ms", timings.faultOff)
            timings.identifyFlash = try ms("identify_flash_ms", timings.identifyFlash)
            timings.identifyPause = try ms("identify_pause_ms", timings.identifyPause)
            try t.finish()
        }

        var relays: [Board.RelayConfig] = []
        for r in try o.objects("relays") {
            let name = try r.requiredString("name")
            let line = try lines.claim(r, key: "line", use: "relay \(name)")
            var s = RelaySettings(name: name)
            s.activeLow = try r.bool("active_low") ?? false
            s.wiring = try r.choice("wiring", [("normally-closed", RelayWiring.normallyClosed),
                                              ("normally-open", .normallyOpen)]) ?? .normallyClosed
            s.minimumOffTime = .milliseconds(try r.integer("min_off_ms", in: 500...600_000) ?? 5000)
            s.maximumCycles = try r.integer("max_cycles", in: 1...100) ?? 4
            s.cycleWindow = .seconds(try r.integer("cycle_window_s", in: 60...86_400) ?? 3600)
            try r.finish()
            relays.append(Board.RelayConfig(settings: s, line: line))
        }
        try unique(relays.map(\.settings.name), what: "relay", in: o, key: "relays")

        var button: Board.ButtonConfig?
        if let b = try o.object("button") {
            let line = try lines.claim(b, key: "line", use: "button")
            var s = ButtonSettings()
            s.activeLow = try b.bool("active_low") ?? true
            s.debounce = .milliseconds(try b.integer("debounce_ms", in: 1...500) ?? 30)
            s.long = .milliseconds(try b.integer("long_ms", in: 100...60_000) ?? 2000)
            s.veryLong = .milliseconds(try b.integer("very_long_ms", in: 200...120_000) ?? 8000)
            guard s.long > s.debounce, s.veryLong > s.long else {
                throw b.error("very_long_ms", "thresholds must grow: debounce_ms < long_ms < very_long_ms")
            }
            let bias = try b.choice("bias", GPIOBias.allCases.map { ($0.rawValue, $0) }) ?? (s.activeLow ? .pullUp : .pullDown)
            try b.finish()
            button = Board.ButtonConfig(line: line, bias: bias, settings: s)
        }

        var sensors: [Board.SensorConfig] = []
        for s in try o.objects("sensors") {
            let name = try s.requiredString("name")
            let type = try s.string("type") ?? "ina219"
            guard type == "ina219" else { throw s.error("type", "'\(type)' is not supported (ina219 is)") }
            guard let raw = try s.integer("address", in: 0x40...0x4F), let address = I2CAddress(rawValue: UInt8(raw)) else {
                throw YAMLError(file: file, mark: s.mark, message: "\(s.path).address is required (0x40...0x4F, set by A0/A1)")
            }
            guard let shunt = try s.number("shunt_ohms", positive: true, maximum: 100) else {
                throw YAMLError(file: file, mark: s.mark, message: "\(s.path).shunt_ohms is required")
            }
            guard let imax = try s.number("max_current_a", positive: true, maximum: 100) else {
                throw YAMLError(file: file, mark: s.mark, message: "\(s.path).max_current_a is required")
            }
            let settings = Ina219Settings(
                shuntOhms: shunt, maxCurrentAmps: imax,
                currentLSBMicroamps: try s.number("current_lsb_ua", positive: true, maximum: 1_000_000),
                busRange: try s.choice("bus_range_v", [("16", Ina219.BusRange.volts16), ("32", .volts32)]) ?? .volts32,
                gain: try s.choice("gain_mv", Ina219.Gain.allCases.map { (String($0.rawValue), $0) }) ?? .millivolts320,
                busADC: try adc(s, "bus_adc"), shuntADC: try adc(s, "shunt_adc"))
            do { _ = try settings.validated() } catch { throw YAMLError(file: file, mark: s.mark, message: "\(s.path) (\(name)): \(error)") }
            let source = try s.choice("source", [("auto", Board.SensorSource.auto), ("i2c", .i2c), ("hwmon", .hwmon)]) ?? .auto
            let label = try s.string("label") ?? name
            try s.finish()
            sensors.append(Board.SensorConfig(name: name, label: label, address: address, settings: settings, source: source))
        }
        try unique(sensors.map(\.name), what: "sensor", in: o, key: "sensors")
        try unique(sensors.map { $0.address.description }, what: "sensor address", in: o, key: "sensors")
        if !sensors.isEmpty && i2cBus == nil && !simulated {
            throw o.error("sensors", "INA219 sensors need i2c.bus")
        }

        guard let p = try o.object("power") else { throw YAMLError(file: file, mark: o.mark, message: "power is required") }
        let idle = try p.number("idle_w", positive: true, maximum: 10_000) ?? 0
        let max = try p.number("max_w", positive: true, maximum: 10_000) ?? 0
        guard idle > 0, max > 0 else { throw YAMLError(file: file, mark: p.mark, message: "power.idle_w and power.max_w are required") }
        guard max >= idle else { throw p.error("max_w", "must be at least idle_w (\(idle))") }
        let halted = try p.number("halted_w", maximum: 10_000) ?? 0
        guard halted >= 0, halted <= idle else { throw p.error("halted_w", "must be between 0 and idle_w") }
        // The rail the meters see; the simulated board's model draws its current from it.
        let supply = try p.number("supply_v", positive: true, maximum: 48) ?? 5.1
        let throttle = try p.number("throttle_c", positive: true, maximum: 200) ?? 80
        let capacity = try p.number("capacity", positive: true, maximum: 1000) ?? 1
        var wake: [Board.WakeMethod] = []
        for (i, m) in try p.strings("wake").enumerated() {
            guard let w = Board.WakeMethod(rawValue: m) else {
                throw p.error("wake", "item \(i): '\(m)' is not one of: " + Board.WakeMethod.allCases.map(\.rawValue).joined(separator: ", "))
            }
            wake.append(w)
        }
        let wakeLine = try p.string("wake_line")
        let wakePads = try p.string("wake_pads")
        let pulse = Duration.milliseconds(try p.integer("wake_pulse_ms", in: 10...10_000) ?? 200)
        let sharing = try p.string("wake_line_sharing")
        try p.finish()
        if wake.contains(.gpioPulse) && wakeLine == nil && wakePads == nil {
            throw p.error("wake", "gpio-pulse needs power.wake_line (the pin a neighbour pulls low) or power.wake_pads")
        }
        if let wakeLine {
            guard layout.lineNames.contains(wakeLine) else {
                throw p.error("wake_line", "'\(wakeLine)' is not a line of this board (\(layout.linePrefix)\(layout.firstLine)...\(layout.linePrefix)\(layout.lastLine))")
            }
            if let shared = LineBook.i2cPins(bus: i2cBus, layout: layout)[wakeLine], sharing == nil {
                throw p.error("wake_line", "\(wakeLine) is also \(shared): say how they coexist in power.wake_line_sharing")
            }
        }
        try o.finish()

        return Board(name: name, model: model, simulated: simulated, i2cBus: i2cBus, gpio: layout, leds: leds,
                     ledTimings: timings, relays: relays, button: button, sensors: sensors,
                     power: Board.PowerFacts(idleWatts: idle, maxWatts: max, haltedWatts: halted, supplyVolts: supply, capacity: capacity,
                                             throttleCelsius: throttle, wake: wake, wakeLine: wakeLine, wakePads: wakePads, wakePulse: pulse,
                                             wakeLineSharing: sharing))
    }

    static func adc(_ o: YAMLObject, _ key: String) throws(YAMLError) -> Ina219.ADCMode {
        let options: [(String, Ina219.ADCMode)] =
            [("9bit", .bits(9)), ("10bit", .bits(10)), ("11bit", .bits(11)), ("12bit", .bits(12))]
            + [2, 4, 8, 16, 32, 64, 128].map { ("avg\($0)", .average($0)) }
        return try o.choice(key, options) ?? .bits(12)
    }

    static func unique(_ names: [String], what: String, in o: YAMLObject, key: String) throws(YAMLError) {
        var seen: Set<String> = []
        for n in names where !seen.insert(n).inserted {
            throw o.error(key, "\(what) '\(n)' appears twice")
        }
    }
}

/// Tracks which lines are taken so that no line is used twice, and refuses lines the
/// board does not have or that belong to the I2C bus in use.
struct LineBook {
    let file: String
    let layout: Board.GPIOLayout
    let reserved: [String: String]
    var used: [String: String] = [:]

    init(file: String, layout: Board.GPIOLayout, i2cBus: Int?) {
        self.file = file
        self.layout = layout
        reserved = Self.i2cPins(bus: i2cBus, layout: layout)
    }

    /// On a Pi, I2C1 sits on GPIO2 (SDA) and GPIO3 (SCL).
    static func i2cPins(bus: Int?, layout: Board.GPIOLayout) -> [String: String] {
        guard bus == 1, layout.linePrefix == "GPIO" else { return [:] }
        return ["GPIO2": "I2C1 SDA", "GPIO3": "I2C1 SCL"]
    }

    mutating func claim(_ o: YAMLObject, key: String, use: String) throws(YAMLError) -> GPIOLineSelector {
        let selector: GPIOLineSelector
        let id: String
        let raw = try o.string(key)
        if let raw, let offset = Int(raw) {
            guard offset >= 0, offset <= layout.lastLine - layout.firstLine else {
                throw o.error(key, "offset \(offset) is beyond this board's lines")
            }
            selector = .offset(UInt32(offset))
            id = "\(layout.linePrefix)\(layout.firstLine + offset)"
        } else if let name = raw {
            guard layout.lineNames.contains(name) else {
                throw o.error(key, "'\(name)' is not a line of this board (\(layout.linePrefix)\(layout.firstLine)...\(layout.linePrefix)\(layout.lastLine))")
            }
            selector = .name(name)
            id = name
        } else {
            throw YAMLError(file: file, mark: o.mark, message: "\(o.path).\(key) is required")
        }
        if let r = reserved[id] { throw o.error(key, "\(id) is \(r), in use by the INA219 bus") }
        if let other = used[id] { throw o.error(key, "\(id) is already used by \(other)") }
        used[id] = use
        return selector
    }
}
