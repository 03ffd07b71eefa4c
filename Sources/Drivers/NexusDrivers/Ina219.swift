/// INA219 register map and arithmetic (TI SBOS448). Pure values: no I/O here.
public enum Ina219 {
    public enum Register: UInt8, Sendable, CaseIterable {
        case configuration = 0x00, shuntVoltage = 0x01, busVoltage = 0x02
        case power = 0x03, current = 0x04, calibration = 0x05
    }

    /// Configuration after power-on or reset: 32 V, PGA /8, 12-bit, continuous.
    public static let resetConfiguration: UInt16 = 0x399F
    public static let resetBit: UInt16 = 0x8000
    public static let maximumCalibration: UInt16 = 0xFFFE

    public enum BusRange: Int, Sendable, CaseIterable {
        case volts16 = 16, volts32 = 32
    }

    /// PGA gain: the shunt voltage full scale.
    public enum Gain: Int, Sendable, CaseIterable {
        case millivolts40 = 40, millivolts80 = 80, millivolts160 = 160, millivolts320 = 320
        var bits: UInt16 {
            switch self {
            case .millivolts40: 0
            case .millivolts80: 1
            case .millivolts160: 2
            case .millivolts320: 3
            }
        }
        public var fullScaleVolts: Double { Double(rawValue) / 1000 }
        /// Full scale in 10 µV steps, where the shunt register saturates.
        public var fullScaleSteps: Int { rawValue * 100 }
    }

    /// ADC resolution, or 12-bit with averaging over N samples.
    public enum ADCMode: Equatable, Sendable {
        case bits(Int)        // 9...12
        case average(Int)     // 2, 4, ..., 128

        var code: UInt16? {
            switch self {
            case .bits(let b) where (9...12).contains(b): UInt16(b - 9)
            case .average(let n):
                switch n {
                case 2: 0b1001
                case 4: 0b1010
                case 8: 0b1011
                case 16: 0b1100
                case 32: 0b1101
                case 64: 0b1110
                case 128: 0b1111
                default: nil
                }
            default: nil
            }
        }

        /// Datasheet conversion times, for choosing a sampling period.
        public var conversionMicroseconds: Int {
            switch self {
            case .bits(9): 84
            case .bits(10): 148
            case .bits(11): 276
            case .bits: 532
            case .average(let n): 532 * n
            }
        }
    }

    /// Configuration register for continuous shunt and bus conversions.
    public static func configuration(busRange: BusRange, gain: Gain, busADC: ADCMode, shuntADC: ADCMode) -> UInt16? {
        guard let b = busADC.code, let s = shuntADC.code else { return nil }
        let brng: UInt16 = busRange == .volts32 ? 1 : 0
        return brng << 13 | gain.bits << 11 | b << 7 | s << 3 | 0b111
    }

    /// Bus voltage register: bits 15...3 in 4 mV steps, CNVR (bit 1), OVF (bit 0).
    public struct BusVoltage: Equatable, Sendable {
        public var millivolts: Int
        public var conversionReady: Bool
        public var overflow: Bool
        public var volts: Double { Double(millivolts) / 1000 }
    }

    public static func busVoltage(register raw: UInt16) -> BusVoltage {
        BusVoltage(millivolts: Int(raw >> 3) * 4, conversionReady: raw & 0b10 != 0, overflow: raw & 1 != 0)
    }

    /// Shunt voltage register: signed, 10 µV per step. Returns microvolts.
    public static func shuntMicrovolts(register raw: UInt16) -> Int {
        Int(Int16(bitPattern: raw)) * 10
    }

    /// Calibration for a shunt and a largest expected current.
    public struct Calibration: Equatable, Sendable {
        /// Current register LSB in nanoamps.
        public var currentLSBNanoamps: Int
        /// Calibration register value.
        public var register: UInt16
        public var currentLSBAmps: Double { Double(currentLSBNanoamps) / 1e9 }
        /// Power LSB is 20 × the current LSB.
        public var powerLSBWatts: Double { 20 * currentLSBAmps }
    }

    public enum CalibrationError: Error, Equatable, Sendable, CustomStringConvertible {
        case nonPositive(String)
        case registerOverflow(needed: Int)
        case registerUnderflow
        case shuntRangeExceeded(millivolts: Double, gain: Gain)

        public var description: String {
            switch self {
            case .nonPositive(let what): "\(what) must be greater than zero"
            case .registerOverflow(let n):
                "calibration would need \(n), above the register's 0xFFFE: raise max_current_a or current_lsb_ua, or use a larger shunt"
            case .registerUnderflow: "calibration would be 0: the current LSB is too coarse for this shunt"
            case .shuntRangeExceeded(let mv, let g):
                "max current through the shunt gives \(mv) mV, beyond the PGA's ±\(g.rawValue) mV: choose a larger gain range or a smaller shunt"
            }
        }
    }

    /// The smallest "round" current LSB (1, 2, 2.5, 4, 5 × 10^n nA) at or above
    /// Imax / 2^15, the datasheet's minimum. Integers throughout so that the worked
    /// examples come out exactly.
    public static func roundCurrentLSB(maxCurrentMicroamps: Int) -> Int {
        let minimumNanoamps = (maxCurrentMicroamps * 1000 + 32767) / 32768
        var decade = 1
        while true {
            for m in [10, 20, 25, 40, 50] {
                let candidate = m * decade / 10
                if candidate >= minimumNanoamps, candidate > 0 { return candidate }
            }
            decade *= 10
        }
    }

    /// Cal = trunc(0.04096 / (Current_LSB × R_shunt)), in integers:
    /// 0.04096 / (nA·1e-9 × µΩ·1e-6) = 40_960_000_000_000 / (nA × µΩ).
    public static func calibration(shuntMicroohms: Int, maxCurrentMicroamps: Int,
                                   currentLSBNanoamps: Int? = nil) throws(CalibrationError) -> Calibration {
        guard shuntMicroohms > 0 else { throw .nonPositive("shunt resistance") }
        guard maxCurrentMicroamps > 0 else { throw .nonPositive("max current") }
        let lsb = currentLSBNanoamps ?? roundCurrentLSB(maxCurrentMicroamps: maxCurrentMicroamps)
        guard lsb > 0 else { throw .nonPositive("current LSB") }
        let (product, overflow) = lsb.multipliedReportingOverflow(by: shuntMicroohms)
        guard !overflow else { throw .registerUnderflow }
        let cal = 40_960_000_000_000 / product
        guard cal <= Int(maximumCalibration) else { throw .registerOverflow(needed: cal) }
        // Bit 0 of the register is read-only zero.
        let register = UInt16(cal) & 0xFFFE
        guard register > 0 else { throw .registerUnderflow }
        return Calibration(currentLSBNanoamps: lsb, register: register)
    }
}
