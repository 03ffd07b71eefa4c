import Testing
import NexusHardware
import NexusSimulation
@testable import NexusDrivers

/// The real driver over the register-level model, through the I2CDevice interface.
@Suite struct Ina219DriverTests {
    let address = I2CAddress(rawValue: 0x40)!

    func make(_ settings: Ina219Settings = Ina219Settings(shuntOhms: 0.1, maxCurrentAmps: 2.0)) throws -> (Ina219Model, Ina219Driver) {
        let model = Ina219Model(address: address)
        let driver = try Ina219Driver(device: model, settings: settings)
        return (model, driver)
    }

    @Test func configureWritesConfigurationAndCalibration() throws {
        let (model, driver) = try make()
        try driver.configure()
        #expect(model.configuration == 0x399F)
        #expect(model.calibration == 4096)
        #expect(model.writes.map(\.register) == [0x00, 0x05])
    }

    @Test func readsAKnownLoad() throws {
        let (model, driver) = try make()
        try driver.configure()
        // 5.0 V bus, 0.5 A through 0.1 Ω: 50 mV shunt.
        model.busVolts = 5.0
        model.shuntVolts = 0.050
        let r = try driver.read()
        // By hand: shunt 5000 steps of 10 µV; current = 5000 × 4096 / 4096 = 5000 LSBs of
        // 100 µA = 0.5 A; bus 1250 steps of 4 mV; power = 5000 × 1250 / 5000 = 1250 LSBs of
        // 2 mW = 2.5 W.
        #expect(r.busVolts == 5.0)
        #expect(abs(r.shuntVolts - 0.05) < 1e-9)
        #expect(abs(r.amps! - 0.5) < 1e-9)
        #expect(abs(r.watts! - 2.5) < 1e-9)
        #expect(!r.overflow)
        #expect(r.conversionReady)
    }

    @Test func negativeCurrentIsSigned() throws {
        let (model, driver) = try make()
        try driver.configure()
        model.busVolts = 4.228
        model.shuntVolts = -0.004
        let r = try driver.read()
        #expect(abs(r.shuntVolts + 0.004) < 1e-9)
        #expect(abs(r.amps! + 0.04) < 1e-9)
        #expect(abs(r.busVolts - 4.228) < 1e-9)
    }

    @Test func overflowIsReportedAsOverflowNotANumber() throws {
        // A calibration so large that the current register cannot hold the result.
        let (model, driver) = try make(Ina219Settings(shuntOhms: 0.1, maxCurrentAmps: 0.4, currentLSBMicroamps: 10))
        try driver.configure()
        model.busVolts = 12
        model.shuntVolts = 0.3
        let r = try driver.read()
        #expect(r.overflow)
        #expect(r.amps == nil)
        #expect(r.watts == nil)
        #expect(r.busVolts == 12)
    }

    @Test func lostCalibrationIsRewritten() throws {
        let (model, driver) = try make()
        try driver.configure()
        model.busVolts = 5
        model.shuntVolts = 0.02
        model.reset() // brown-out: Cal reads 0, current would read 0
        #expect(model.calibration == 0)
        let r = try driver.read()
        #expect(r.recalibrated)
        #expect(model.calibration == 4096)
        #expect(abs(r.amps! - 0.2) < 1e-9)
        #expect(driver.recalibrations == 1)
        #expect(try !driver.read().recalibrated)
    }

    @Test func bytesAreSwappedOnTheWire() throws {
        let (model, driver) = try make()
        try driver.configure()
        // The model's SMBus word for the calibration register is the chip's big-endian value swapped.
        #expect(try model.readWord(register: 0x05) == 0x0010)
        #expect(try driver.read(.calibration) == 0x1000)
    }

    @Test func nackCarriesContext() throws {
        let (model, driver) = try make()
        model.failWith = .noSuchDeviceOrAddress
        do {
            _ = try driver.read()
            Issue.record("expected a failure")
        } catch {
            guard case .transfer(let h) = error else { Issue.record("wrong error \(error)"); return }
            #expect(h.address == 0x40)
            #expect(h.register == 0x05)
            #expect(h.errno == .noSuchDeviceOrAddress)
            #expect(error.description.contains("address 0x40"))
            #expect(error.description.contains("ENXIO"))
        }
    }

    @Test func calibrationNotAcceptedIsAnError() throws {
        final class Deaf: I2CDevice {
            let deviceName = "/dev/i2c-9"
            let address = I2CAddress(rawValue: 0x41)!
            func readWord(register: UInt8) throws(HardwareError) -> UInt16 { 0 }
            func writeWord(register: UInt8, _ value: UInt16) throws(HardwareError) {}
        }
        let driver = try Ina219Driver(device: Deaf(), settings: Ina219Settings(shuntOhms: 0.1, maxCurrentAmps: 2))
        #expect(throws: Ina219Error.calibrationNotAccepted(device: "/dev/i2c-9", address: I2CAddress(rawValue: 0x41)!, wrote: 4096, readBack: 0)) {
            try driver.configure()
        }
    }

    @Test func hwmonReadingIsPickedByBusAndAddress() {
        // Values as the kernel's ina2xx driver gives them, scaled by libsensors (a real board's
        // reading: in0 = -4 mV, in1 = 4228 mV, power1 = 176000 µW, curr1 = -40 mA).
        let chip = "ina219-i2c-1-40"
        let readings = [
            HwmonReading(chip: chip, prefix: "ina219", label: "in0", feature: "in0", bus: .i2c, busNumber: 1, address: 0x40, kind: .voltage, value: -0.004),
            HwmonReading(chip: chip, prefix: "ina219", label: "in1", feature: "in1", bus: .i2c, busNumber: 1, address: 0x40, kind: .voltage, value: 4.228),
            HwmonReading(chip: chip, prefix: "ina219", label: "power1", feature: "power1", bus: .i2c, busNumber: 1, address: 0x40, kind: .power, value: 0.176),
            HwmonReading(chip: chip, prefix: "ina219", label: "curr1", feature: "curr1", bus: .i2c, busNumber: 1, address: 0x40, kind: .current, value: -0.04),
        ]
        let r = HwmonIna219.reading(from: readings, bus: 1, address: I2CAddress(rawValue: 0x40)!)
        #expect(r?.busVolts == 4.228)
        #expect(r?.shuntVolts == -0.004)
        #expect(r?.amps == -0.04)
        #expect(r?.watts == 0.176)
        #expect(HwmonIna219.reading(from: readings, bus: 2, address: I2CAddress(rawValue: 0x40)!) == nil)
        #expect(HwmonIna219.reading(from: readings, bus: 1, address: I2CAddress(rawValue: 0x41)!) == nil)
    }
}
