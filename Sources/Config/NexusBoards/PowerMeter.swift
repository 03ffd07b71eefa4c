public import NexusDrivers
public import NexusHardware
internal import NexusSimulation

/// One INA219 of a board, read over I2C or, when the kernel's driver owns it, through
/// hwmon. A missing bus or chip is a reading error, retried on the next read: the
/// device may appear later (module loaded, cable reseated).
public final class PowerMeter {
    public let config: Board.SensorConfig
    public let bus: Int
    private let logger: Logger
    private var driver: Ina219Driver?
    /// Opens the I2C device; replaced by the simulation on the sim board.
    private let openDevice: () throws(HardwareError) -> any I2CDevice
    public private(set) var viaHwmon: Bool
    /// The sim board's register model stands behind the I2C interface.
    public let simulated: Bool

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case device(Ina219Error)
        case hwmonMissing(bus: Int, address: I2CAddress)

        public var description: String {
            switch self {
            case .device(let e): e.description
            case .hwmonMissing(let b, let a):
                "no ina219 hwmon device for i2c-\(b) address \(a): bind the kernel driver (echo ina219 \(a) > /sys/bus/i2c/devices/i2c-\(b)/new_device) or set source: i2c"
            }
        }
    }

    init(config: Board.SensorConfig, bus: Int, logger: Logger, simulated: Bool = false,
         openDevice: @escaping () throws(HardwareError) -> any I2CDevice) {
        self.simulated = simulated
        self.config = config
        self.bus = bus
        self.logger = logger
        self.openDevice = openDevice
        viaHwmon = config.source == .hwmon
    }

    public var source: String { simulated ? "simulated" : viaHwmon ? "hwmon" : "i2c" }

    /// Reads the meter. `hwmon` is the same sample's libsensors reading, used when the
    /// kernel driver owns the chip.
    public func read(hwmon: [HwmonReading]) -> Result<Ina219Reading, Failure> {
        if viaHwmon {
            guard let r = HwmonIna219.reading(from: hwmon, bus: bus, address: config.address) else {
                return .failure(.hwmonMissing(bus: bus, address: config.address))
            }
            return .success(r)
        }
        do throws(Ina219Error) {
            let d = try connect()
            return .success(try d.read())
        } catch {
            if case .transfer(let h) = error, h.errno == .busy, config.source == .auto {
                logger.warning("kernel driver owns the INA219; reading it through hwmon instead",
                               ["sensor": config.name, "device": h.device, "i2c.address": config.address.description])
                viaHwmon = true
                driver = nil
                return read(hwmon: hwmon)
            }
            // Drop the handle so that the next read reopens and reconfigures the chip.
            driver = nil
            return .failure(.device(error))
        }
    }

    private func connect() throws(Ina219Error) -> Ina219Driver {
        if let driver { return driver }
        let device: any I2CDevice
        do { device = try openDevice() } catch { throw .transfer(error) }
        let d = try Ina219Driver(device: device, settings: config.settings, logger: logger)
        try d.configure()
        driver = d
        return d
    }
}
