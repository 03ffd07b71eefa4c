public import NexusHardware

/// Settings for one INA219, from a board file.
public struct Ina219Settings: Equatable, Sendable {
    public var shuntMicroohms: Int
    public var maxCurrentMicroamps: Int
    public var currentLSBNanoamps: Int?
    public var busRange: Ina219.BusRange
    public var gain: Ina219.Gain
    public var busADC: Ina219.ADCMode
    public var shuntADC: Ina219.ADCMode

    public init(shuntOhms: Double, maxCurrentAmps: Double, currentLSBMicroamps: Double? = nil,
                busRange: Ina219.BusRange = .volts32, gain: Ina219.Gain = .millivolts320,
                busADC: Ina219.ADCMode = .bits(12), shuntADC: Ina219.ADCMode = .bits(12)) {
        shuntMicroohms = Self.whole(shuntOhms * 1_000_000)
        maxCurrentMicroamps = Self.whole(maxCurrentAmps * 1_000_000)
        currentLSBNanoamps = currentLSBMicroamps.map { Self.whole($0 * 1000) }
        self.busRange = busRange
        self.gain = gain
        self.busADC = busADC
        self.shuntADC = shuntADC
    }

    /// Rounds to an integer without trapping: NaN becomes 0 and huge values are clamped,
    /// so that `validated()` reports them instead of the process dying.
    static func whole(_ d: Double) -> Int {
        guard d.isFinite else { return d.isNaN ? 0 : (d > 0 ? 1 << 52 : -(1 << 52)) }
        return Int(max(-4.0e15, min(4.0e15, d)).rounded())
    }

    /// Checks the settings against the chip's limits; the board loader reports these.
    public func validated() throws(Ina219.CalibrationError) -> (configuration: UInt16, calibration: Ina219.Calibration) {
        let cal = try Ina219.calibration(shuntMicroohms: shuntMicroohms, maxCurrentMicroamps: maxCurrentMicroamps,
                                         currentLSBNanoamps: currentLSBNanoamps)
        let shuntMillivolts = Double(maxCurrentMicroamps) * Double(shuntMicroohms) / 1e9
        guard shuntMillivolts <= Double(gain.rawValue) else {
            throw .shuntRangeExceeded(millivolts: shuntMillivolts, gain: gain)
        }
        // ADC modes come from the board loader's fixed vocabulary, so a nil here is a bug
        // there; fall back to the reset value rather than trap.
        let config = Ina219.configuration(busRange: busRange, gain: gain, busADC: busADC, shuntADC: shuntADC)
            ?? Ina219.resetConfiguration
        return (config, cal)
    }
}

/// One conversion's results. Current and power are nil while the chip flags a math
/// overflow: the numbers it holds then are not measurements.
public struct Ina219Reading: Equatable, Sendable {
    public var busVolts: Double
    public var shuntVolts: Double
    public var amps: Double?
    public var watts: Double?
    public var conversionReady: Bool
    public var overflow: Bool
    /// True when this read found the calibration lost (reset, brown-out) and rewrote it.
    public var recalibrated: Bool
}

public enum Ina219Error: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bus transfer failed: NACK, missing adapter, permissions.
    case transfer(HardwareError)
    /// We wrote the calibration and read back something else.
    case calibrationNotAccepted(device: String, address: I2CAddress, wrote: UInt16, readBack: UInt16)
    case badSettings(device: String, address: I2CAddress, Ina219.CalibrationError)

    public var description: String {
        switch self {
        case .transfer(let e): "INA219: \(e)"
        case .calibrationNotAccepted(let d, let a, let w, let r):
            "INA219 on \(d) address \(a): wrote calibration 0x\(hex(w)), read back 0x\(hex(r)) (is this an INA219?)"
        case .badSettings(let d, let a, let e): "INA219 on \(d) address \(a): \(e)"
        }
    }
}

/// Bus I/O for one INA219 behind any `I2CDevice` (a real bus or the register model).
public final class Ina219Driver {
    public let device: any I2CDevice
    public let settings: Ina219Settings
    public let calibration: Ina219.Calibration
    public let configuration: UInt16
    public private(set) var recalibrations = 0
    private let logger: Logger

    public init(device: any I2CDevice, settings: Ina219Settings, logger: Logger = .silent) throws(Ina219Error) {
        self.device = device
        self.settings = settings
        self.logger = logger
        do {
            (configuration, calibration) = try settings.validated()
        } catch {
            throw .badSettings(device: device.deviceName, address: device.address, error)
        }
    }

    /// The chip is big-endian on the wire; SMBus words arrive little-endian.
    func read(_ r: Ina219.Register) throws(Ina219Error) -> UInt16 {
        do { return try device.readWord(register: r.rawValue).byteSwapped }
        catch { throw .transfer(error) }
    }

    func write(_ r: Ina219.Register, _ value: UInt16) throws(Ina219Error) {
        do { try device.writeWord(register: r.rawValue, value.byteSwapped) }
        catch { throw .transfer(error) }
    }

    /// Writes configuration and calibration and checks that the chip kept them.
    public func configure() throws(Ina219Error) {
        try write(.configuration, configuration)
        try write(.calibration, calibration.register)
        let back = try read(.calibration)
        guard back == calibration.register else {
            throw .calibrationNotAccepted(device: device.deviceName, address: device.address,
                                          wrote: calibration.register, readBack: back)
        }
        logger.info("INA219 configured", ["device": device.deviceName, "i2c.address": device.address.description,
                                          "config": "0x" + hex(configuration), "cal": "0x" + hex(calibration.register)])
    }

    /// One reading. The calibration register is checked first: after a reset or
    /// brown-out it reads 0 and current/power would read 0 too, so it is rewritten.
    public func read() throws(Ina219Error) -> Ina219Reading {
        var recalibrated = false
        let cal = try read(.calibration)
        if cal != calibration.register {
            logger.warning("INA219 calibration lost, rewriting",
                           ["device": device.deviceName, "i2c.address": device.address.description,
                            "read": "0x" + hex(cal), "expected": "0x" + hex(calibration.register)])
            try configure()
            recalibrations += 1
            recalibrated = true
        }
        let bus = Ina219.busVoltage(register: try read(.busVoltage))
        let shunt = Ina219.shuntMicrovolts(register: try read(.shuntVoltage))
        let current = Int16(bitPattern: try read(.current))
        let power = try read(.power)
        return Ina219Reading(
            busVolts: bus.volts,
            shuntVolts: Double(shunt) / 1e6,
            amps: bus.overflow ? nil : Double(current) * calibration.currentLSBAmps,
            watts: bus.overflow ? nil : Double(power) * calibration.powerLSBWatts,
            conversionReady: bus.conversionReady,
            overflow: bus.overflow,
            recalibrated: recalibrated)
    }
}
