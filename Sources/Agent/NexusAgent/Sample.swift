public import NexusDrivers
public import NexusHardware
public import NexusWire

/// One reading of everything the node measures. JSON form: docs/sensors-json.md.
public struct Sample: Sendable {
    public struct Power: Sendable {
        public var name: String
        public var label: String
        public var address: I2CAddress
        /// "i2c" or "hwmon".
        public var source: String
        public var reading: Ina219Reading?
        public var error: String?
    }

    public struct Temperature: Sendable {
        public var chip: String
        public var label: String
        public var celsius: Double?
        public var alarm: Bool
        public var error: String?
    }

    public var board: String
    public var node: String
    /// Wall clock, milliseconds since the Unix epoch.
    public var timestampMs: Int64
    public var power: [Power]
    public var temperatures: [Temperature]
    /// Other hwmon inputs (voltages, fans, currents) by chip, as libsensors reports them.
    public var otherHwmon: [HwmonReading]
    /// Busy fraction 0...1 since the previous sample; nil on the first.
    public var cpuUtilisation: Double?
    public var load: LoadAverage?
    public var memory: MemoryInfo?
    /// Devices the agent could not open this time (the GPIO chip, ...).
    public var deviceFaults: [String] = []

    /// Sum of all power meters that produced a number.
    public var totalWatts: Double? {
        let w = power.compactMap { $0.reading?.watts }
        return w.isEmpty ? nil : w.reduce(0, +)
    }

    /// Everything that is wrong with this sample, for logs and the fault state.
    public var faults: [String] {
        deviceFaults
            + power.compactMap { p in p.error.map { "\(p.name): \($0)" } }
            + power.filter { $0.reading?.overflow == true }.map { "\($0.name): overflow (current beyond the calibrated range)" }
            + temperatures.filter(\.alarm).map { "\($0.chip) \($0.label): alarm" }
            + otherHwmon.filter(\.alarm).map { "\($0.chip) \($0.label): alarm" }
    }

    public static let schemaVersion = 1

    public var json: JSONValue {
        let powerItems: [JSONValue] = power.map { p in
            var fields: [(String, JSONValue)] = [
                ("name", .string(p.name)), ("label", .string(p.label)),
                ("address", .string(p.address.description)), ("source", .string(p.source)),
            ]
            if let r = p.reading {
                fields += [
                    ("status", .string(r.overflow ? "overflow" : "ok")),
                    ("bus_v", .number(r.busVolts, places: 3)),
                    ("shunt_v", .number(r.shuntVolts, places: 6)),
                    ("current_a", .number(r.amps, places: 4)),
                    ("power_w", .number(r.watts, places: 4)),
                    ("conversion_ready", .bool(r.conversionReady)),
                ]
                if r.recalibrated { fields.append(("recalibrated", .bool(true))) }
            } else {
                fields += [("status", .string("error")), ("error", .string(p.error ?? "unknown"))]
            }
            return .object(fields)
        }
        let temps: [JSONValue] = temperatures.map { t in
            var f: [(String, JSONValue)] = [("chip", .string(t.chip)), ("label", .string(t.label)),
                                            ("celsius", .number(t.celsius, places: 3)), ("alarm", .bool(t.alarm))]
            if let e = t.error { f.append(("error", .string(e))) }
            return .object(f)
        }
        let other: [JSONValue] = otherHwmon.map { h in
            .object([("chip", .string(h.chip)), ("label", .string(h.label)), ("kind", .string(h.kind.rawValue)),
                     ("value", .number(h.value, places: 4)), ("unit", .string(Self.unit(h.kind))), ("alarm", .bool(h.alarm))])
        }
        return .object([
            ("schema", .int(Int64(Self.schemaVersion))),
            ("node", .string(node)),
            ("board", .string(board)),
            ("timestamp_ms", .int(timestampMs)),
            ("power", .array(powerItems)),
            ("total_power_w", .number(totalWatts, places: 4)),
            ("temperatures", .array(temps)),
            ("hwmon_other", .array(other)),
            ("cpu", .object([("utilisation", .number(cpuUtilisation, places: 4))])),
            ("load", load.map { .object([("1m", .number($0.one, places: 2)), ("5m", .number($0.five, places: 2)),
                                         ("15m", .number($0.fifteen, places: 2))]) } ?? .null),
            ("memory", memory.map { .object([("total_kib", .int(Int64($0.totalKiB))), ("available_kib", .int(Int64($0.availableKiB))),
                                             ("used_fraction", .number($0.usedFraction, places: 4))]) } ?? .null),
            ("faults", .array(faults.map { .string($0) })),
        ])
    }

    public func jsonText(pretty: Bool) -> String { json.serialized(pretty: pretty) }

    static func unit(_ k: HwmonReading.Kind) -> String {
        switch k {
        case .voltage: "V"
        case .fan: "RPM"
        case .temperature: "°C"
        case .power: "W"
        case .energy: "J"
        case .current: "A"
        case .humidity: "%"
        case .other: ""
        }
    }
}
