public import NexusHardware

/// A register-level INA219: what the chip computes from the voltages on its pins,
/// behind the same `I2CDevice` interface as a real bus. Words go out byte-swapped, as a
/// big-endian chip's do over SMBus.
public final class Ina219Model: I2CDevice {
    public let deviceName: String
    public let address: I2CAddress

    /// Physical inputs.
    public var busVolts: Double = 0
    public var shuntVolts: Double = 0

    public private(set) var configuration: UInt16 = 0x399F
    public private(set) var calibration: UInt16 = 0
    /// Fault injection: every transfer fails with this errno (ENXIO is a NACK).
    public var failWith: Errno?
    public private(set) var writes: [(register: UInt8, value: UInt16)] = []

    public init(deviceName: String = "ina219-model", address: I2CAddress) {
        self.deviceName = deviceName
        self.address = address
    }

    /// Power-on reset or brown-out: configuration back to default, calibration lost.
    public func reset() {
        configuration = 0x399F
        calibration = 0
    }

    var gainFullScaleSteps: Int {
        switch (configuration >> 11) & 0b11 {
        case 0: 4000
        case 1: 8000
        case 2: 16000
        default: 32000
        }
    }

    public var shuntRegister: Int16 {
        let steps = Int((shuntVolts * 100_000).rounded())
        return Int16(max(-gainFullScaleSteps, min(gainFullScaleSteps, steps)))
    }

    /// Current register = shunt × cal / 4096; nil when it does not fit in 16 bits.
    var currentValue: Int? {
        let c = Int(shuntRegister) * Int(calibration) / 4096
        return (-32768...32767).contains(c) ? c : nil
    }

    var busSteps: Int {
        let fullScale = configuration & 0x2000 != 0 ? 32_000 : 16_000
        let mv = max(0, min(Double(fullScale), busVolts * 1000))
        return min(Int(mv / 4), 0x1FFF)
    }

    /// Power register = current × bus / 5000; nil when it does not fit.
    var powerValue: Int? {
        guard let c = currentValue else { return nil }
        let p = abs(c) * busSteps / 5000
        return p <= 0xFFFF ? p : nil
    }

    public func register(_ r: UInt8) -> UInt16 {
        switch r {
        case 0x00: return configuration
        case 0x01: return UInt16(bitPattern: shuntRegister)
        case 0x02:
            let overflow: UInt16 = currentValue == nil || powerValue == nil ? 1 : 0
            return UInt16(busSteps) << 3 | 0b10 | overflow
        case 0x03: return UInt16(truncatingIfNeeded: powerValue ?? 0xFFFF)
        case 0x04: return UInt16(bitPattern: Int16(truncatingIfNeeded: currentValue ?? 0x7FFF))
        case 0x05: return calibration
        default: return 0
        }
    }

    public func readWord(register r: UInt8) throws(HardwareError) -> UInt16 {
        if let failWith { throw HardwareError(.readWord, device: deviceName, address: address.rawValue, register: r, errno: failWith) }
        return register(r).byteSwapped
    }

    public func writeWord(register r: UInt8, _ wire: UInt16) throws(HardwareError) {
        if let failWith { throw HardwareError(.writeWord, device: deviceName, address: address.rawValue, register: r, errno: failWith) }
        let value = wire.byteSwapped
        writes.append((r, value))
        switch r {
        case 0x00:
            if value & 0x8000 != 0 { reset() } else { configuration = value }
        case 0x05: calibration = value & 0xFFFE
        default: break // read-only registers ignore writes
        }
    }
}
