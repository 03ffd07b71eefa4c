internal import CSensors

/// One input of one hwmon chip as libsensors reports it, in base SI units
/// (V, A, W, J, °C, RPM, %) — libsensors has already scaled the kernel's mV/mA/µW.
public struct HwmonReading: Equatable, Sendable {
    public enum Kind: String, Sendable {
        case voltage, fan, temperature, power, energy, current, humidity, other
    }
    public enum Bus: String, Sendable { case i2c, isa, platform, virtual, other }

    public var chip: String
    public var prefix: String
    public var adapter: String
    public var label: String
    public var feature: String
    public var path: String
    public var bus: Bus
    public var busNumber: Int
    public var address: Int
    public var kind: Kind
    /// nil when the read failed (see `error`) or the input has only alarms.
    public var value: Double?
    public var error: String?
    public var alarm: Bool

    public init(chip: String, prefix: String, adapter: String = "", label: String, feature: String,
                path: String = "", bus: Bus, busNumber: Int = 0, address: Int = 0, kind: Kind,
                value: Double?, error: String? = nil, alarm: Bool = false) {
        self.chip = chip
        self.prefix = prefix
        self.adapter = adapter
        self.label = label
        self.feature = feature
        self.path = path
        self.bus = bus
        self.busNumber = busNumber
        self.address = address
        self.kind = kind
        self.value = value
        self.error = error
        self.alarm = alarm
    }
}

/// Where hwmon readings come from: libsensors, or a simulation.
public protocol HwmonSource: AnyObject {
    func readAll() -> [HwmonReading]
}

/// libsensors. It keeps process-wide state, so at most one instance lives at a time.
public final class LibSensors: HwmonSource {
    nonisolated(unsafe) private static var live = false

    public static var version: String { String(cString: nexus_sensors_version()) }

    /// - Parameter configPath: a sensors.conf to apply (labels, computes); nil for none,
    ///   which keeps the kernel's raw values.
    public init(configPath: String? = nil) throws(HardwareError) {
        guard !Self.live else {
            throw HardwareError(.sensorsInit, device: "libsensors", errno: .busy, hint: "already initialised in this process")
        }
        let r: CInt = if let configPath { nexus_sensors_init(configPath) } else { nexus_sensors_init(nil) }
        guard r == 0 else {
            throw HardwareError(.sensorsInit, device: configPath ?? "libsensors", errno: .io,
                                hint: String(cString: nexus_sensors_strerror(r)))
        }
        Self.live = true
    }

    deinit {
        nexus_sensors_cleanup()
        Self.live = false
    }

    public func readAll() -> [HwmonReading] {
        var cursor = nexus_sensors_cursor(chip_index: 0, feature_index: 0)
        var r = nexus_sensor_reading()
        var out: [HwmonReading] = []
        while nexus_sensors_next(&cursor, &r) == 1 {
            out.append(HwmonReading(
                chip: Self.field(&r.chip), prefix: Self.field(&r.prefix), adapter: Self.field(&r.adapter),
                label: Self.field(&r.label), feature: Self.field(&r.feature), path: Self.field(&r.path),
                bus: Self.bus(r.bus_type), busNumber: Int(r.bus_number), address: Int(r.address),
                kind: Self.kind(r.kind), value: r.has_value != 0 ? r.value : nil,
                error: r.has_value != 0 || r.has_input == 0 ? nil : String(cString: nexus_sensors_strerror(-r.read_error)),
                alarm: r.alarm != 0))
        }
        return out
    }

    static func field<T>(_ tuple: inout T) -> String {
        withUnsafeBytes(of: &tuple) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    static func bus(_ t: CInt) -> HwmonReading.Bus {
        switch t {
        case CInt(NEXUS_BUS_I2C): .i2c
        case CInt(NEXUS_BUS_ISA): .isa
        case CInt(NEXUS_BUS_PLATFORM): .platform
        case CInt(NEXUS_BUS_VIRTUAL): .virtual
        default: .other
        }
    }

    static func kind(_ k: CInt) -> HwmonReading.Kind {
        switch k {
        case CInt(NEXUS_SENSOR_VOLTAGE): .voltage
        case CInt(NEXUS_SENSOR_FAN): .fan
        case CInt(NEXUS_SENSOR_TEMPERATURE): .temperature
        case CInt(NEXUS_SENSOR_POWER): .power
        case CInt(NEXUS_SENSOR_ENERGY): .energy
        case CInt(NEXUS_SENSOR_CURRENT): .current
        case CInt(NEXUS_SENSOR_HUMIDITY): .humidity
        default: .other
        }
    }
}
