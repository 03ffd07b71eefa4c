public import NexusDrivers
public import NexusHardware

/// A board profile: where things are wired and what the node draws. One YAML file per
/// board in `boards/`, validated on load (`BoardLoader`).
public struct Board: Equatable, Sendable {
    public var name: String
    public var model: String
    /// Runs on simulated devices instead of /dev.
    public var simulated: Bool
    /// `/dev/i2c-N`, when the board has INA219s on I2C.
    public var i2cBus: Int?
    public var gpio: GPIOLayout
    public var leds: [LedConfig]
    public var ledTimings: LedTimings
    public var relays: [RelayConfig]
    public var button: ButtonConfig?
    public var sensors: [SensorConfig]
    public var power: PowerFacts

    public struct GPIOLayout: Equatable, Sendable {
        /// The chip's label: chip numbers move between models and kernels.
        public var chipLabel: String
        /// Line names the header exposes, e.g. GPIO0...GPIO27.
        public var linePrefix: String
        public var firstLine: Int
        public var lastLine: Int

        public var lineNames: [String] { (firstLine...lastLine).map { "\(linePrefix)\($0)" } }
    }

    public struct LedConfig: Equatable, Sendable {
        public var name: String
        public var line: GPIOLineSelector
        public var activeLow: Bool
    }

    public struct RelayConfig: Equatable, Sendable {
        public var settings: RelaySettings
        public var line: GPIOLineSelector
    }

    public struct ButtonConfig: Equatable, Sendable {
        public var line: GPIOLineSelector
        public var bias: GPIOBias
        public var settings: ButtonSettings
    }

    public enum SensorSource: String, Sendable {
        /// I2C directly; if a kernel driver owns the address (EBUSY), hwmon instead.
        case auto
        case i2c
        case hwmon
    }

    public struct SensorConfig: Equatable, Sendable {
        public var name: String
        public var label: String
        public var address: I2CAddress
        public var settings: Ina219Settings
        public var source: SensorSource
    }

    public enum WakeMethod: String, Sendable, CaseIterable {
        case wol, poeRelay = "poe-relay", gpioPulse = "gpio-pulse"
    }

    public struct PowerFacts: Equatable, Sendable {
        public var idleWatts: Double
        public var maxWatts: Double
        public var haltedWatts: Double
        public var supplyVolts: Double
        /// Work the board does at full load, relative to a Pi 4B (1): what turns watts per
        /// unit of utilisation into watts per unit of work for the coordinator.
        public var capacity: Double = 1
        /// Where the SoC starts throttling; the coordinator's thermal headroom.
        public var throttleCelsius: Double
        /// How a halted node of this board can be woken, in order of preference.
        public var wake: [WakeMethod]
        /// The pin a neighbour pulls low to wake this board (GPIO3 on a Pi 1-4).
        public var wakeLine: String?
        /// A wake input that is not a header line (the Pi 5's J2 power-button pads).
        public var wakePads: String?
        public var wakePulse: Duration
        /// How the wake line and I2C share a pin, when they do (in words, from the file).
        public var wakeLineSharing: String?
    }
}
