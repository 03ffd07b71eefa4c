import Testing
import Foundation
import NexusYAML
import NexusDrivers
import NexusHardware
@testable import NexusBoards

@Suite struct BuiltInBoardTests {
    @Test(arguments: ["sim", "pi3bplus", "pi4b", "pi5", "cm4"])
    func loads(_ name: String) throws {
        let b = try BoardCatalog.load(name)
        #expect(b.name == name)
        #expect(!b.sensors.isEmpty)
        #expect(b.leds.contains { $0.name == "status" })
        #expect(b.power.maxWatts > b.power.idleWatts)
    }

    @Test func chipLabelsMatchTheModels() throws {
        #expect(try BoardCatalog.load("pi3bplus").gpio.chipLabel == "pinctrl-bcm2835")
        #expect(try BoardCatalog.load("pi4b").gpio.chipLabel == "pinctrl-bcm2711")
        #expect(try BoardCatalog.load("cm4").gpio.chipLabel == "pinctrl-bcm2711")
        #expect(try BoardCatalog.load("pi5").gpio.chipLabel == "pinctrl-rp1")
    }

    @Test func wakeLineSharingIsDeclaredWhereGPIO3IsSCL() throws {
        for name in ["pi3bplus", "pi4b"] {
            let b = try BoardCatalog.load(name)
            #expect(b.i2cBus == 1 && b.power.wakeLine == "GPIO3")
            #expect(b.power.wakeLineSharing != nil)
        }
        let cm4 = try BoardCatalog.load("cm4")
        #expect(cm4.i2cBus == 3 && cm4.power.wakeLineSharing == nil)
        #expect(try BoardCatalog.load("pi5").power.wakePads != nil)
    }

    /// The agent embeds boards/*.yaml; tools/embed-boards regenerates the Swift file.
    @Test func embeddedCopiesMatchTheFiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("boards")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.map { String($0.dropLast(5)) }.sorted() == BoardCatalog.names.sorted())
        for f in files {
            var text = try String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8)
            if text.hasSuffix("\n") { text.removeLast() }
            #expect(BoardCatalog.text(named: String(f.dropLast(5))) == text, "boards/\(f) changed: run tools/embed-boards")
        }
    }

    @Test func unknownBoardNamesTheKnownOnes() {
        #expect(throws: ConfigError.self) { try BoardCatalog.load("pi9") }
        do { _ = try BoardCatalog.load("pi9") } catch {
            #expect(error.description.contains("pi4b"))
        }
    }
}

@Suite struct BadBoardFileTests {
    /// The sim board with one edit applied.
    func load(replacing old: String, with new: String) throws(YAMLError) -> Board {
        let base = BoardCatalog.text(named: "sim")!
        precondition(base.contains(old), "fixture text not found: \(old)")
        return try BoardLoader.load(text: base.replacingOccurrences(of: old, with: new), file: "bad.yaml")
    }

    func message(_ old: String, _ new: String) -> String? {
        do {
            _ = try load(replacing: old, with: new)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func unknownKey() {
        let m = message("    min_off_ms: 5000", "    min_off_ms: 5000\n    min_of_ms: 3")
        #expect(m?.contains("unknown key 'relays[0].min_of_ms'") == true)
        #expect(m?.hasPrefix("bad.yaml:") == true)
    }

    @Test func lineNotOnTheBoard() {
        #expect(message("line: GPIO17", "line: GPIO40")?.contains("'GPIO40' is not a line of this board") == true)
        #expect(message("line: GPIO17", "line: 99")?.contains("offset 99 is beyond") == true)
    }

    @Test func duplicateLine() {
        #expect(message("line: GPIO27", "line: GPIO17")?.contains("GPIO17 is already used by LED status") == true)
        // By offset and by name: the same pin.
        #expect(message("line: GPIO27", "line: 17")?.contains("GPIO17 is already used") == true)
    }

    @Test func i2cPinsAreReserved() {
        #expect(message("line: GPIO26", "line: GPIO2")?.contains("GPIO2 is I2C1 SDA") == true)
    }

    @Test func impossibleSensor() {
        // 4 A through 0.1 Ω is beyond the PGA's ±320 mV.
        #expect(message("max_current_a: 2.0", "max_current_a: 4.0")?.contains("beyond the PGA") == true)
        #expect(message("shunt_ohms: 0.1", "shunt_ohms: 0")?.contains("must be greater than zero") == true)
        #expect(message("address: 0x40", "address: 0x70")?.contains("outside 64...79") == true)
        #expect(message("bus_range_v: 16", "bus_range_v: 24")?.contains("not one of: 16, 32") == true)
        // Found by the fuzzer: a huge value once trapped converting to an integer.
        #expect(message("shunt_ohms: 0.1", "shunt_ohms: 1e300")?.contains("out of range") == true)
        #expect(message("max_current_a: 2.0", "max_current_a: 9e18")?.contains("out of range") == true)
        // A fine current LSB with a small shunt needs a calibration above 0xFFFE.
        #expect(message("gain_mv: 320", "gain_mv: 320\n    current_lsb_ua: 1")?.contains("above the register") == true)
    }

    @Test func wakeOnSCLWithoutSaying() {
        let base = BoardCatalog.text(named: "sim")!
        let cut = String(base[..<base.range(of: "  wake_line_sharing:")!.lowerBound])
        do {
            _ = try BoardLoader.load(text: cut, file: "bad.yaml")
            Issue.record("accepted GPIO3 wake on I2C1 without a sharing note")
        } catch {
            #expect(error.description.contains("GPIO3 is also I2C1 SCL"))
        }
    }

    @Test func yamlProblemsHavePositions() {
        let dup = message("board: sim", "board: sim\nboard: sim2")
        #expect(dup?.contains("duplicate key 'board'") == true)
        #expect(dup?.contains("bad.yaml:5:") == true)
        #expect(message("leds:", "leds: [")?.contains("YAML syntax") == true)
        #expect(message("line: GPIO27", "line: *a")?.contains("anchors and aliases are not supported") == true)
    }

    @Test func wrongShapes() {
        #expect(message("leds:\n  - name: status\n    line: GPIO17\n  - name: fault\n    line: GPIO27", "leds: GPIO17")?.contains("leds: expected a list") == true)
        #expect(throws: YAMLError.self) { try BoardLoader.load(text: "- a\n- b\n", file: "x.yaml") }
        #expect(throws: YAMLError.self) { try BoardLoader.load(text: "", file: "x.yaml") }
    }

    @Test func powerFacts() {
        #expect(message("max_w: 6.4", "max_w: 1.0")?.contains("must be at least idle_w") == true)
        #expect(message("wake: [gpio-pulse, poe-relay]", "wake: [magic]")?.contains("'magic' is not one of") == true)
    }

    @Test func buttonThresholdsMustGrow() {
        #expect(message("  bias: pull-up", "  bias: pull-up\n  long_ms: 9000")?.contains("thresholds must grow") == true)
    }
}

@Suite struct AgentConfigTests {
    @Test func fullFile() throws {
        let c = try AgentConfig.parse(text: """
            node: rack1-n3
            board: pi4b
            sample_interval_s: 2.5
            log_level: debug
            """, file: "agent.yaml")
        #expect(c.node == "rack1-n3")
        #expect(c.board == "pi4b")
        #expect(c.sampleInterval == .milliseconds(2500))
        #expect(c.logLevel == .debug)
    }

    @Test func powerOffPath() throws {
        #expect(AgentConfig().powerOff == nil)
        #expect(AgentConfig().powerOffPath(for: try BoardCatalog.load("pi4b")) == .logind)
        // A simulated node never powers off the machine it runs on, unless told to.
        #expect(AgentConfig().powerOffPath(for: try BoardCatalog.load("sim")) == .simulated)
        #expect(try AgentConfig.parse(text: "power_off: logind", file: "a.yaml").powerOffPath(for: try BoardCatalog.load("sim")) == .logind)
        #expect(try AgentConfig.parse(text: "power_off_command: [reboot, -f]", file: "a.yaml").powerOff == .command(["reboot", "-f"]))
        #expect(try AgentConfig.parse(text: "power_off: command", file: "a.yaml").powerOff == .command(["systemctl", "poweroff"]))
        #expect(try AgentConfig.parse(text: "power_off: logind", file: "a.yaml").powerOff == .logind)
        #expect(throws: ConfigError.self) { try AgentConfig.parse(text: "power_off_command: []", file: "a.yaml") }
        #expect(throws: ConfigError.self) { try AgentConfig.parse(text: "power_off_command: reboot", file: "a.yaml") }
        #expect(throws: ConfigError.self) { try AgentConfig.parse(text: "power_off: logind\npower_off_command: [reboot]", file: "a.yaml") }
        #expect(throws: ConfigError.self) { try AgentConfig.parse(text: "power_off: halt", file: "a.yaml") }
    }

    @Test func wakeAndWakeTargets() throws {
        let c = try AgentConfig.parse(text: """
            node: n1
            wake: {method: poe-relay, via: n0}
            wake_targets:
              ws-1: {method: wol, mac: "aa:bb:cc:dd:ee:0f", interface: eth0, raw: true, password: 1.2.3.4}
              pi-2: {method: poe-relay, relay: poe1}
              pi-3: {method: gpio-pulse, line: GPIO5, pulse_ms: 300}
            """, file: "a.yaml")
        #expect(c.wake == NodeWake(method: .poeRelay, via: "n0"))
        let mac = try #require(MACAddress("AA:BB:CC:DD:EE:0F"))
        #expect(c.wakeTargets["ws-1"] == .wol(mac: mac, interface: "eth0", raw: true, password: [1, 2, 3, 4]))
        #expect(c.wakeTargets["pi-2"] == .poeRelay(relay: "poe1"))
        #expect(c.wakeTargets["pi-3"] == .gpioPulse(line: "GPIO5", pulse: .milliseconds(300), drive: .openDrain))
        let sim = try BoardCatalog.load("sim")
        try c.check(against: sim, node: "n1")
        #expect(throws: ConfigError.doesNotFit("wake_targets.pi-3: a node cannot wake itself")) { try c.check(against: sim, node: "pi-3") }
    }

    @Test(arguments: [
        ("wake: {method: wol}", "wol needs wake.interface"),
        ("wake: {method: wol, interface: eth0, via: n0}", "via is for poe-relay"),
        ("wake: {method: teleport}", "not one of"),
        ("wake_targets: {ws: {method: wol, mac: nope}}", "'nope' is not a MAC address"),
        ("wake_targets: {ws: {method: wol, mac: 'aa:bb:cc:dd:ee:ff', password: abc}}", "SecureOn password"),
        ("wake_targets: {ws: {method: wol, mac: 'aa:bb:cc:dd:ee:ff', raw: true}}", "a raw frame needs interface"),
        ("wake_targets: {Bad_Name: {method: poe-relay, relay: poe1}}", "is not a node name"),
        ("wake_targets: {p: {method: gpio-pulse, line: GPIO5, pulse_ms: 5}}", "outside 10...10000"),
        ("wake_targets: {p: {method: poe-relay}}", "relay"),
        ("node: a\nwake_targets: {a: {method: poe-relay, relay: poe1}}", "cannot wake itself"),
    ])
    func wakeErrors(text: String, expected: String) {
        do {
            _ = try AgentConfig.parse(text: text, file: "a.yaml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
        }
    }

    @Test(arguments: [
        ("wake: {method: wol, interface: eth0}", "wake.method: board sim cannot be woken by wol (it supports: gpio-pulse, poe-relay)"),
        ("wake_targets: {p: {method: poe-relay, relay: poe9}}", "wake_targets.p.relay: board sim has no relay 'poe9' (it has: poe1)"),
        ("wake_targets: {p: {method: gpio-pulse, line: GPIO99}}", "wake_targets.p.line: 'GPIO99' is not a line of board sim"),
        ("wake_targets: {p: {method: gpio-pulse, line: GPIO22}}", "wake_targets.p.line: GPIO22 is already relay poe1"),
        ("wake_targets: {p: {method: gpio-pulse, line: GPIO5}, q: {method: gpio-pulse, line: GPIO5}}", "wake_targets.q.line: GPIO5 is already the wake line for p"),
    ])
    func wakeDoesNotFitTheBoard(text: String, expected: String) throws {
        let c = try AgentConfig.parse(text: text, file: "a.yaml")
        #expect(throws: ConfigError.doesNotFit(expected)) { try c.check(against: try BoardCatalog.load("sim"), node: "n1") }
    }

    @Test func emptyFileMeansDefaults() throws {
        #expect(try AgentConfig.parse(text: "", file: "a.yaml") == AgentConfig())
    }

    @Test(arguments: [
        ("nod: x", "unknown key 'nod'"),
        ("node: Rack_1", "must be 1-63 characters"),
        ("sample_interval_s: 0", "must be greater than zero"),
        ("sample_interval_s: fast", "is not a number"),
        ("log_level: loud", "not one of"),
        ("node: [a]", "expected a value"),
    ])
    func errors(text: String, expected: String) {
        do {
            _ = try AgentConfig.parse(text: text, file: "agent.yaml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
            #expect(error.description.hasPrefix("agent.yaml:1:"))
        }
    }

    @Test func missingFile() {
        do {
            _ = try AgentConfig.load(path: "/nonexistent/agent.yaml")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.description.contains("/nonexistent/agent.yaml"))
            #expect(error.description.contains("ENOENT"))
        }
    }
}
