public import NexusHardware

/// An INA219 bound to the kernel's ina2xx driver, read through libsensors. The driver
/// exposes in0 (shunt), in1 (bus), curr1 and power1; libsensors scales them to V, A, W.
public enum HwmonIna219 {
    /// Picks the chip at `bus`/`address` out of a libsensors reading.
    public static func reading(from readings: [HwmonReading], bus: Int, address: I2CAddress) -> Ina219Reading? {
        let chip = readings.filter {
            ($0.prefix == "ina219" || $0.prefix == "ina220") && $0.bus == .i2c
                && $0.busNumber == bus && $0.address == Int(address.rawValue)
        }
        func value(_ feature: String) -> Double? { chip.first { $0.feature == feature }?.value }
        guard let busVolts = value("in1"), let shuntVolts = value("in0") else { return nil }
        return Ina219Reading(busVolts: busVolts, shuntVolts: shuntVolts, amps: value("curr1"), watts: value("power1"),
                             conversionReady: true, overflow: false, recalibrated: false)
    }
}
