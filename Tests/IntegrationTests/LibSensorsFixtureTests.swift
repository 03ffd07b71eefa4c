import Foundation
import Testing

/// libsensors for real, against fixture hwmon trees: inside `unshare -m`, a tmpfs on
/// /sys/class with the fixture bound on /sys/class/hwmon (see docs/testing.md).
@Suite(.serialized) struct LibSensorsFixtureTests {
    /// Builds the tree: a Pi's cpu_thermal, an INA219 owned by the kernel's ina2xx driver on
    /// i2c-1 at 0x40 (the values a real board showed), and rpi_volt with its under-voltage alarm.
    func fixture(undervoltage: Bool) throws -> URL {
        let root = try temporaryDirectory("hwmon")
        let fm = FileManager.default
        func file(_ path: String, _ text: String) throws {
            let url = root.appendingPathComponent(path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: false, encoding: .utf8)
        }
        // libsensors drops the last byte of `name`: each ends in a newline, as in sysfs.
        try file("hwmon/hwmon0/name", "cpu_thermal\n")
        try file("hwmon/hwmon0/temp1_input", "48312\n")
        try file("hwmon/hwmon1/name", "ina219\n")
        try file("hwmon/hwmon1/in0_input", "-4\n")
        try file("hwmon/hwmon1/in1_input", "4228\n")
        try file("hwmon/hwmon1/curr1_input", "-40\n")
        try file("hwmon/hwmon1/power1_input", "176000\n")
        try file("hwmon/hwmon1/shunt_resistor", "100000\n")
        try file("hwmon/hwmon2/name", "rpi_volt\n")
        try file("hwmon/hwmon2/in0_lcrit_alarm", undervoltage ? "1\n" : "0\n")
        try file("devices/i2c-1/1-0040/name", "ina219\n")
        try fm.createDirectory(at: root.appendingPathComponent("bus/i2c"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("hwmon/hwmon1/device").path,
                                  withDestinationPath: root.appendingPathComponent("devices/i2c-1/1-0040").path)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("devices/i2c-1/1-0040/subsystem").path,
                                  withDestinationPath: root.appendingPathComponent("bus/i2c").path)
        try file("adapter/i2c-1/name", "bcm2835 (i2c@7e804000)\n")
        // The Pi 4 profile with the INA219 read through hwmon, as when the kernel owns it.
        let board = try AgentBinary.agent(["boards", "show", "pi4b"]).stdout
        #expect(board.contains("gain_mv: 320\n"))
        try file("pi4b-hwmon.yaml", board.replacingOccurrences(of: "    gain_mv: 320\n", with: "    gain_mv: 320\n    source: hwmon\n"))
        return root
    }

    func sensorsInNamespace(_ root: URL, _ args: [String]) throws -> AgentBinary.Result {
        let script = """
            set -e
            mount -t tmpfs nexus-fixture /sys/class
            mkdir /sys/class/hwmon /sys/class/i2c-adapter
            mount --bind "$1/hwmon" /sys/class/hwmon
            mount --bind "$1/adapter" /sys/class/i2c-adapter
            shift
            exec "$@"
            """
        return try AgentBinary.run("/usr/bin/unshare", ["-m", "sh", "-c", script, "sh", root.path, AgentBinary.path] + args)
    }

    @Test func readsTemperaturesAndAKernelOwnedINA219() throws {
        let root = try fixture(undervoltage: false)
        defer { try? FileManager.default.removeItem(at: root) }
        let board = root.appendingPathComponent("pi4b-hwmon.yaml").path
        let r = try sensorsInNamespace(root, ["sensors", "--board", board, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try json(r.stdout)
        let temps = try #require(o["temperatures"] as? [[String: Any]])
        let cpu = try #require(temps.first { $0["chip"] as? String == "cpu_thermal-virtual-0" })
        #expect(cpu["celsius"] as? Double == 48.312)
        #expect(cpu["label"] as? String == "temp1")
        // The INA219 through the kernel driver: same physical values in the same units as
        // the I2C path (V, A, W).
        let p = try #require((o["power"] as? [[String: Any]])?.first)
        #expect(p["source"] as? String == "hwmon")
        #expect(p["bus_v"] as? Double == 4.228)
        #expect(p["shunt_v"] as? Double == -0.004)
        #expect(p["current_a"] as? Double == -0.04)
        #expect(p["power_w"] as? Double == 0.176)
        // The INA219's inputs are not listed twice under hwmon_other.
        let other = try #require(o["hwmon_other"] as? [[String: Any]])
        #expect(!other.contains { ($0["chip"] as? String)?.hasPrefix("ina219") == true })
        #expect((o["faults"] as? [String])?.isEmpty == true)
    }

    @Test func underVoltageAlarmIsAFault() throws {
        let root = try fixture(undervoltage: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let r = try sensorsInNamespace(root, ["sensors", "--board", root.appendingPathComponent("pi4b-hwmon.yaml").path, "--json"])
        let o = try json(r.stdout)
        let faults = try #require(o["faults"] as? [String])
        #expect(faults.contains { $0.contains("rpi_volt") && $0.contains("alarm") }, "\(faults)")
    }

    @Test func tableShowsTheChipsLikeSensorsDoes() throws {
        let root = try fixture(undervoltage: false)
        defer { try? FileManager.default.removeItem(at: root) }
        let r = try sensorsInNamespace(root, ["sensors", "--board", root.appendingPathComponent("pi4b-hwmon.yaml").path])
        #expect(r.stdout.contains("+48.3 °C"))
        #expect(r.stdout.contains("hwmon"))
        #expect(r.stdout.contains("4.228"))
    }
}
