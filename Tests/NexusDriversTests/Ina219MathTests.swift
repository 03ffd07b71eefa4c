import Testing
@testable import NexusDrivers

@Suite struct Ina219MathTests {
    // Bus voltage register: bits 15..3 in 4 mV steps (SBOS448 §8.6.3.2).
    @Test(arguments: [(UInt16(0x15E0), 2_800), (0xFFF8, 32_764), (0x0000, 0), (0x0008, 4), (0x1F40, 4_000)])
    func busVoltage(raw: UInt16, mV: Int) {
        #expect(Ina219.busVoltage(register: raw).millivolts == mV)
    }

    @Test func busVoltageFlags() {
        let v = Ina219.busVoltage(register: 0x15E0 | 0b11)
        #expect(v.millivolts == 2_800)
        #expect(v.conversionReady)
        #expect(v.overflow)
        #expect(!Ina219.busVoltage(register: 0x15E0).overflow)
    }

    // Shunt voltage: two's complement, 10 µV per step (datasheet table 7: 32000 = 320 mV,
    // -32000 = -320 mV, 0xFF38 = -2 mV).
    @Test(arguments: [(UInt16(0x7D00), 320_000), (0x8300, -320_000), (0x0000, 0), (0xFF38, -2_000), (0x0001, 10), (0xFFFF, -10)])
    func shuntVoltage(raw: UInt16, microvolts: Int) {
        #expect(Ina219.shuntMicrovolts(register: raw) == microvolts)
    }

    // Worked examples with R_shunt = 0.1 Ω (datasheet §8.5.1 and the common 32V/1A and
    // 16V/400mA settings).
    @Test func calibration32V2A() throws {
        let c = try Ina219.calibration(shuntMicroohms: 100_000, maxCurrentMicroamps: 2_000_000)
        #expect(c.currentLSBNanoamps == 100_000)
        #expect(c.register == 4096)
        #expect(abs(c.powerLSBWatts - 0.002) < 1e-12)
    }

    @Test func calibration32V1A() throws {
        let c = try Ina219.calibration(shuntMicroohms: 100_000, maxCurrentMicroamps: 1_000_000)
        #expect(c.currentLSBNanoamps == 40_000)
        #expect(c.register == 10240)
        #expect(abs(c.powerLSBWatts - 0.0008) < 1e-12)
    }

    @Test func calibration16V400mAWithChosenLSB() throws {
        let c = try Ina219.calibration(shuntMicroohms: 100_000, maxCurrentMicroamps: 400_000, currentLSBNanoamps: 50_000)
        #expect(c.register == 8192)
        #expect(abs(c.powerLSBWatts - 0.001) < 1e-12)
    }

    @Test(arguments: [(2_000_000, 100_000), (1_000_000, 40_000), (400_000, 20_000), (3_200_000, 100_000), (5_000_000, 200_000)])
    func roundCurrentLSB(maxMicroamps: Int, nanoamps: Int) {
        let lsb = Ina219.roundCurrentLSB(maxCurrentMicroamps: maxMicroamps)
        #expect(lsb == nanoamps)
        // The datasheet's bound: Current_LSB ≥ Imax / 2^15.
        #expect(Double(lsb) * 32768 >= Double(maxMicroamps) * 1000)
    }

    @Test func calibrationTooLargeIsAnError() {
        // 1 mΩ with 1 µA LSB needs 40_960_000, far above 0xFFFE.
        #expect(throws: Ina219.CalibrationError.registerOverflow(needed: 40_960_000)) {
            try Ina219.calibration(shuntMicroohms: 1_000, maxCurrentMicroamps: 10_000, currentLSBNanoamps: 1_000)
        }
    }

    @Test func calibrationRejectsNonPositive() {
        #expect(throws: Ina219.CalibrationError.self) {
            try Ina219.calibration(shuntMicroohms: 0, maxCurrentMicroamps: 1_000_000)
        }
    }

    @Test func shuntRangeCheck() {
        // 4 A through 0.1 Ω is 400 mV, beyond the ±320 mV of PGA /8.
        let s = Ina219Settings(shuntOhms: 0.1, maxCurrentAmps: 4.0)
        #expect(throws: Ina219.CalibrationError.shuntRangeExceeded(millivolts: 400, gain: .millivolts320)) {
            try s.validated()
        }
    }

    @Test func hugeOrNonFiniteSettingsAreErrorsNotTraps() {
        #expect(throws: Ina219.CalibrationError.self) { try Ina219Settings(shuntOhms: 1e300, maxCurrentAmps: 2).validated() }
        #expect(throws: Ina219.CalibrationError.self) { try Ina219Settings(shuntOhms: .nan, maxCurrentAmps: 2).validated() }
        #expect(throws: Ina219.CalibrationError.self) { try Ina219Settings(shuntOhms: 0.1, maxCurrentAmps: .infinity).validated() }
    }

    @Test func configurationRegister() {
        #expect(Ina219.configuration(busRange: .volts32, gain: .millivolts320, busADC: .bits(12), shuntADC: .bits(12)) == 0x399F)
        #expect(Ina219.configuration(busRange: .volts16, gain: .millivolts40, busADC: .bits(12), shuntADC: .bits(12)) == 0x019F)
        // 128-sample averaging on both ADCs: BADC = SADC = 1111.
        #expect(Ina219.configuration(busRange: .volts32, gain: .millivolts320, busADC: .average(128), shuntADC: .average(128)) == 0x3FFF)
        #expect(Ina219.configuration(busRange: .volts32, gain: .millivolts320, busADC: .average(3), shuntADC: .bits(12)) == nil)
    }
}
