import Foundation
import Testing

@Suite(.serialized) struct CommandLineTests {
    @Test func helpExplainsEveryCommand() throws {
        let top = try AgentBinary.agent(["--help"])
        #expect(top.status == 0)
        for c in ["sensors", "run", "gpio", "boards", "config"] { #expect(top.stdout.contains("  \(c)")) }
        for c in ["sensors", "run", "gpio", "boards"] {
            let r = try AgentBinary.agent([c, "--help"])
            #expect(r.status == 0)
            #expect(r.stdout.contains("Usage: nexus-agent \(c)"))
        }
        #expect(try AgentBinary.agent(["sensors", "--help"]).stdout.contains("--json"))
        #expect(try AgentBinary.agent(["--version"]).stdout.hasPrefix("nexus-agent "))
    }

    @Test func configCheckValidatesAgainstTheBoardWithoutDevices() throws {
        let dir = try temporaryDirectory("config-check")
        let good = dir.appendingPathComponent("good.yaml").path
        try "node: n1\nboard: pi4b\nmqtt: {broker: \"mqtts://broker.lan:8883\", ca_file: /etc/nexusgrid/ca.crt}\nwake: {method: poe-relay, via: n0}\n"
            .write(toFile: good, atomically: true, encoding: .utf8)
        let ok = try AgentBinary.agent(["config", "check", good])
        #expect(ok.status == 0 && ok.stdout.contains("ok (node n1, board pi4b, broker mqtts://broker.lan:8883)"), "\(ok.stderr)")
        let bad = dir.appendingPathComponent("bad.yaml").path
        try "node: n1\nboard: pi4b\nwake: {method: wol, interface: eth0}\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let r = try AgentBinary.agent(["config", "check", bad])
        #expect(r.status == 1 && r.stderr.contains("board pi4b cannot be woken by wol"), "\(r.stderr)")
        #expect(try AgentBinary.agent(["config", "lint"]).status == 2)
    }

    @Test func usageErrorsExitTwo() throws {
        let r = try AgentBinary.agent(["sensors", "--bord", "sim"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("unknown option '--bord'"))
        #expect(r.stderr.contains("did you mean --board?"))
        #expect(try AgentBinary.agent(["frobnicate"]).status == 2)
        #expect(try AgentBinary.agent(["run", "--interval", "soon"]).status == 2)
        #expect(try AgentBinary.agent(["gpio", "led", "status", "disco"]).stderr.contains("unknown pattern 'disco'"))
    }

    @Test func sensorsJSONOnTheSimBoard() throws {
        let r = try AgentBinary.agent(["sensors", "--board", "sim", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try json(r.stdout)
        #expect(o["schema"] as? Int == 1)
        #expect(o["board"] as? String == "sim")
        let p = try #require((o["power"] as? [[String: Any]])?.first)
        #expect(p["status"] as? String == "ok")
        #expect(p["bus_v"] as? Double == 5.1)
        let w = try #require(p["power_w"] as? Double)
        // Between the sim board's idle and full-load figures (2.7 and 6.4 W).
        #expect(w >= 2.68 && w <= 6.42)
        let amps = try #require(p["current_a"] as? Double)
        #expect(abs(amps * 5.1 - w) < 0.01)
        let temps = try #require(o["temperatures"] as? [[String: Any]])
        #expect(temps.first?["chip"] as? String == "cpu_thermal-virtual-0")
    }

    /// The simulated INA219 follows this machine's real CPU: with both cores spinning the
    /// reading must sit near the sim board's full-load figure.
    @Test func simulatedPowerRisesUnderRealLoad() throws {
        let spinners = try (0..<ProcessInfo.processInfo.activeProcessorCount).map { _ -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "while :; do :; done"]
            try p.run()
            return p
        }
        // SIGKILL: a test process may have SIGTERM blocked (the agent's loop blocks it), and
        // children inherit the mask.
        defer { for s in spinners { kill(s.processIdentifier, SIGKILL); s.waitUntilExit() } }
        usleep(200_000)
        let r = try AgentBinary.agent(["sensors", "--board", "sim", "--json", "--window-ms", "600"])
        let o = try json(r.stdout)
        let cpu = try #require((o["cpu"] as? [String: Any])?["utilisation"] as? Double)
        let w = try #require((o["power"] as? [[String: Any]])?.first?["power_w"] as? Double)
        #expect(cpu > 0.8)
        #expect(w > 5.5, "power \(w) W at cpu \(cpu)")
    }

    @Test func tableOutput() throws {
        let r = try AgentBinary.agent(["sensors"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("board sim"))
        #expect(r.stdout.contains("POWER W"))
        #expect(r.stdout.contains("cpu_thermal-virtual-0"))
    }

    @Test func missingDevicesAreClearErrors() throws {
        let s = try AgentBinary.agent(["sensors", "--board", "pi4b", "--json"])
        #expect(s.status == 1)
        let o = try json(s.stdout) // still prints a complete reading
        let p = try #require((o["power"] as? [[String: Any]])?.first)
        #expect(p["status"] as? String == "error")
        #expect((p["error"] as? String)?.contains("/dev/i2c-1") == true)
        #expect(s.stderr.contains("ENOENT"))

        // The agent loop keeps running without its GPIO chip and reports it in each sample.
        let r = try AgentBinary.agent(["run", "--board", "pi5", "--interval", "0.1", "--samples", "2", "--print-samples"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("GPIO unavailable"))
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        let faults = try #require(try json(String(lines[1]))["faults"] as? [String])
        #expect(faults.contains { $0.contains("pinctrl-rp1") })
        #expect(faults.contains { $0.contains("/dev/i2c-1") })
        // The test commands need the chip and say so.
        let g = try AgentBinary.agent(["gpio", "led", "status", "on", "--board", "pi5"])
        #expect(g.status == 1)
        #expect(g.stderr.contains("pinctrl-rp1"))
    }

    @Test func sensorsRateReadsEachMeterAndSaysWhatBoundsIt() throws {
        let r = try AgentBinary.agent(["sensors", "--rate", "500"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("node (0x40, simulated): 500 readings in"), "\(r.stdout)")
        #expect(r.stdout.contains("the chip converts shunt and bus every 1064 µs"))
        // A missing bus: the meter fails, the exit status says so.
        let p = try AgentBinary.agent(["sensors", "--board", "pi4b", "--rate", "10"])
        #expect(p.status == 1)
        #expect(p.stderr.contains("/dev/i2c-1"))
        let bad = try AgentBinary.agent(["sensors", "--rate", "0"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--rate: '0' is not a number from 1 to 10000000"), "\(bad.stderr)")
    }

    /// A board that names no GPIO lines (meters only) never needs a chip: no GPIO fault in
    /// its samples, and no search for a chip at every sample.
    @Test func boardWithoutLinesNeedsNoGPIOChip() throws {
        let dir = try temporaryDirectory("meters-only")
        defer { try? FileManager.default.removeItem(at: dir) }
        let board = dir.appendingPathComponent("meters.yaml")
        try """
            board: meters
            model: Meters only
            gpio: { chip: no-such-chip, line_prefix: GPIO, first_line: 0, last_line: 27 }
            i2c: { bus: 1 }
            sensors:
              - { name: node, address: 0x40, shunt_ohms: 0.1, max_current_a: 2.0, bus_range_v: 16, gain_mv: 320 }
            power: { idle_w: 2.7, max_w: 6.4 }
            """.write(to: board, atomically: false, encoding: .utf8)
        let r = try AgentBinary.agent(["run", "--board", board.path, "--interval", "0.1", "--samples", "2", "--print-samples"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("no GPIO lines on this board"))
        #expect(!r.stderr.contains("GPIO unavailable"))
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        let faults = try #require(try json(String(lines[1]))["faults"] as? [String])
        #expect(!faults.contains { $0.contains("no-such-chip") }, "\(faults)")
        #expect(faults.contains { $0.contains("/dev/i2c-1") }) // the meter is still missing, and said so
    }

    @Test func badConfigAndBoardFiles() throws {
        let dir = try temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("agent.yaml")
        try "node: rack-1\nboard: sim\nsample_intervall_s: 5\n".write(to: config, atomically: true, encoding: .utf8)
        let r = try AgentBinary.agent(["sensors", "--config", config.path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("agent.yaml:3:1: unknown key 'sample_intervall_s'"))

        let board = dir.appendingPathComponent("myboard.yaml")
        try "board: mine\ngpio:\n  chip: pinctrl-bcm2711\nleds:\n  - name: a\n    line: GPIO17\n  - name: b\n    line: GPIO17\npower:\n  idle_w: 2\n  max_w: 5\n"
            .write(to: board, atomically: true, encoding: .utf8)
        let b = try AgentBinary.agent(["boards", "check", board.path])
        #expect(b.status == 1)
        #expect(b.stderr.contains("myboard.yaml:8:11: leds[1].line: GPIO17 is already used by LED a"))

        let missing = try AgentBinary.agent(["sensors", "--config", dir.appendingPathComponent("nope.yaml").path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("nope.yaml"))
    }

    @Test func boardsListAndShow() throws {
        let r = try AgentBinary.agent(["boards"])
        for b in ["cm4", "pi3bplus", "pi4b", "pi5", "sim"] { #expect(r.stdout.contains(b)) }
        #expect(!r.stdout.contains("INVALID"))
        #expect(try AgentBinary.agent(["boards", "show", "pi5"]).stdout.contains("pinctrl-rp1"))
    }

    @Test func runPrintsSamplesAndStops() throws {
        let r = try AgentBinary.agent(["run", "--board", "sim", "--node", "test-1", "--interval", "0.2", "--samples", "3", "--print-samples"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        for l in lines { #expect(try json(String(l))["node"] as? String == "test-1") }
        #expect(r.stderr.contains("<6>nexus-agent: agent running board=sim node=test-1"))
        #expect(r.stderr.contains("agent stopped; relays powered, LEDs off, lines released reason=\"sample limit reached\""))
    }

    @Test func sigtermEndsTheLoopCleanly() throws {
        let r = try AgentBinary.agent(["run", "--board", "sim", "--interval", "0.1", "--print-samples"]) { p in
            usleep(700_000)
            kill(p.processIdentifier, SIGTERM)
        }
        #expect(r.status == 0)
        #expect(r.stderr.contains("reason=SIGTERM"))
        #expect(r.stdout.split(separator: "\n").count >= 3)
    }

    @Test func gpioCommandsOnTheSimBoard() throws {
        let list = try AgentBinary.agent(["gpio", "list"])
        #expect(list.status == 0)
        #expect(list.stdout.contains("GPIO17") && list.stdout.contains("LED status"))
        #expect(list.stdout.contains("relay poe1"))
        let led = try AgentBinary.agent(["gpio", "led", "status", "blink", "--seconds", "0.3"])
        #expect(led.status == 0, "\(led.stderr)")
        let noLed = try AgentBinary.agent(["gpio", "led", "nope", "on"])
        #expect(noLed.status == 2)
        #expect(noLed.stderr.contains("it has: status, fault"))
    }
}
