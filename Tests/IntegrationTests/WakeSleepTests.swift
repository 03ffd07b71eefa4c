import Foundation
import Testing

/// The agent's side of waking other nodes and of powering itself off, through the real
/// binary, a real broker and signed commands.
@Suite(.serialized) struct WakeSleepTests {
    let keys: Signer
    init() throws { keys = try Signer() }

    func config(_ text: String) throws -> String {
        let url = keys.dir.appendingPathComponent("agent-\(UUID().uuidString).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func subscribe(_ broker: Broker, _ topic: String) throws -> LineCollector {
        let c = try broker.follow(topic)
        usleep(300_000)
        return c
    }

    func events(_ c: LineCollector, _ type: String) -> [[String: Any]] {
        c.lines.compactMap { try? payload($0) }.filter { $0["type"] as? String == type }
    }

    @Test func wakesItsTargetsByRelayAndPulseAndRefusesOthers() throws {
        defer { keys.remove() }
        let broker = try Broker()
        let cfg = try config("""
            node: waker
            board: sim
            sample_interval_s: 0.5
            wake: {method: poe-relay, via: rack-head}
            wake_targets:
              pi-2: {method: poe-relay, relay: poe1}
              pi-3: {method: gpio-pulse, line: GPIO5, pulse_ms: 300}
            """)
        let agent = try LineCollector(AgentBinary.path, ["run", "--config", cfg, "--broker", broker.url,
                                                         "--command-key", "coordinator=\(keys.path("coordinator.pub"))"])
        defer { agent.stop() }
        #expect(agent.wait(timeout: 10) { _ in agent.stderr.contains("MQTT connected") }, "\(agent.stderr)")
        #expect(agent.stderr.contains("wake_lines=1"), "\(agent.stderr)")

        // The status says how this node is woken and whom it wakes.
        let status = try payload(try #require(try broker.subscribe("nexusgrid/v1/waker/status", count: 1).first))
        let wake = try #require(status["wake"] as? [String: Any])
        #expect(wake["method"] as? String == "poe-relay")
        #expect(wake["via"] as? String == "rack-head")
        #expect((status["capabilities"] as? [String: Any])?["wakes"] as? [String] == ["pi-2", "pi-3"])
        #expect((status["capabilities"] as? [String: Any])?["wake_methods"] as? [String: String] == ["pi-2": "poe-relay", "pi-3": "gpio-pulse"])
        #expect(status["warnings"] as? [String] == [])

        let ev = try subscribe(broker, "nexusgrid/v1/waker/event")
        defer { ev.stop(SIGKILL) }
        let topic = "nexusgrid/v1/waker/cmd/wake"

        // gpio-pulse: low for 300 ms, then released, each reported.
        try keys.publish(port: broker.port, topic, try keys.sign("wake", node: "waker", payload: #"{"id":"w-1","target":"pi-3"}"#))
        #expect(ev.wait(timeout: 10) { _ in events(ev, "wake").count >= 2 }, "\(ev.lines)")
        let pulse = events(ev, "wake")
        #expect(pulse.first?["outcome"] as? String == "pulling")
        #expect(pulse.last?["outcome"] as? String == "pulsed")
        #expect(pulse.last?["detail"] as? String == "GPIO5 released after 300 ms")
        let held = ((pulse.last?["timestamp_ms"] as? Int) ?? 0) - ((pulse.first?["timestamp_ms"] as? Int) ?? 0)
        #expect(held >= 290, "pulse lasted \(held) ms")
        #expect(events(ev, "command-result").last?["outcome"] as? String == "ok")

        // poe-relay: off, then on after the board's 5 s minimum off-time.
        try keys.publish(port: broker.port, topic, try keys.sign("wake", node: "waker", payload: #"{"id":"w-2","target":"pi-2"}"#))
        #expect(ev.wait(timeout: 5) { _ in events(ev, "relay").count >= 1 }, "\(ev.lines)")
        #expect(events(ev, "relay").first?["powered"] as? String == "false")
        #expect(events(ev, "wake").last?["outcome"] as? String == "cycling")
        #expect(ev.wait(timeout: 10) { _ in events(ev, "wake").last?["outcome"] as? String == "powered" }, "\(ev.lines)")
        let relay = events(ev, "relay")
        #expect(relay.last?["powered"] as? String == "true")
        let off = ((relay.last?["timestamp_ms"] as? Int) ?? 0) - ((relay.first?["timestamp_ms"] as? Int) ?? 0)
        #expect(off >= 4990, "relay was off \(off) ms")

        // A node it does not know: refused, nothing switched.
        let relaysBefore = events(ev, "relay").count
        try keys.publish(port: broker.port, topic, try keys.sign("wake", node: "waker", payload: #"{"id":"w-3","target":"nope"}"#))
        #expect(ev.wait(timeout: 10) { _ in events(ev, "command-result").contains { $0["id"] as? String == "w-3" } }, "\(ev.lines)")
        let refused = try #require(events(ev, "command-result").first { $0["id"] as? String == "w-3" })
        #expect(refused["outcome"] as? String == "failed")
        #expect(refused["detail"] as? String == "unknown target node 'nope': this agent wakes pi-2, pi-3")
        usleep(300_000)
        #expect(events(ev, "relay").count == relaysBefore)
        #expect(agent.process.isRunning)
    }

    @Test func configThatDoesNotFitTheBoardIsRefusedAtStart() throws {
        defer { keys.remove() }
        let cfg = try config("board: sim\nwake: {method: wol, interface: eth0}\n")
        let r = try AgentBinary.agent(["run", "--config", cfg, "--samples", "1"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("wake.method: board sim cannot be woken by wol (it supports: gpio-pulse, poe-relay)"), "\(r.stderr)")
    }

    /// A private bus in place of the system bus, with login1's two methods answered as
    /// systemd-logind answers them (Tests/Fixtures/dbus/login1.py): the agent's sd-bus
    /// client is the real one.
    final class Login1 {
        let dir: URL
        let daemon: LineCollector
        let service: LineCollector
        var address: String { "unix:path=\(dir.appendingPathComponent("bus").path)" }

        init(mode: String) throws {
            dir = try temporaryDirectory("dbus")
            let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Fixtures/dbus")
            daemon = try LineCollector("/usr/bin/dbus-daemon", ["--config-file=\(fixtures.appendingPathComponent("bus.conf").path)",
                                                                "--address=unix:path=\(dir.appendingPathComponent("bus").path)",
                                                                "--nofork", "--print-address"])
            #expect(daemon.wait(timeout: 10) { !$0.isEmpty }, "dbus-daemon: \(daemon.stderr)")
            let address = "unix:path=\(dir.appendingPathComponent("bus").path)"
            service = try LineCollector("/usr/bin/env", ["DBUS_SYSTEM_BUS_ADDRESS=\(address)", "/usr/bin/python3",
                                                         fixtures.appendingPathComponent("login1.py").path, mode])
            #expect(service.wait(timeout: 10) { $0.contains("ready") }, "login1.py: \(service.stderr)")
        }

        func stop() {
            service.stop(SIGKILL)
            daemon.stop(SIGKILL)
            try? FileManager.default.removeItem(at: dir)
        }
    }

    func sleepTwice(mode: String, powerOff: String = "power_off: logind\n",
                    check: (LineCollector, LineCollector, LineCollector, Login1) throws -> Void) throws {
        defer { keys.remove() }
        let bus = try Login1(mode: mode)
        defer { bus.stop() }
        let broker = try Broker()
        let cfg = try config("node: sleeper\nboard: sim\nsample_interval_s: 0.5\n" + powerOff)
        let agent = try LineCollector("/usr/bin/env", ["DBUS_SYSTEM_BUS_ADDRESS=\(bus.address)", AgentBinary.path, "run",
                                                       "--config", cfg, "--broker", broker.url,
                                                       "--command-key", "coordinator=\(keys.path("coordinator.pub"))"])
        defer { agent.stop() }
        #expect(agent.wait(timeout: 10) { _ in agent.stderr.contains("MQTT connected") }, "\(agent.stderr)")
        let status = try subscribe(broker, "nexusgrid/v1/sleeper/status")
        defer { status.stop(SIGKILL) }
        let ev = try subscribe(broker, "nexusgrid/v1/sleeper/event")
        defer { ev.stop(SIGKILL) }
        for id in ["s-1", "s-2"] {
            try keys.publish(port: broker.port, "nexusgrid/v1/sleeper/cmd/sleep", try keys.sign("sleep", node: "sleeper", payload: "{\"id\":\"\(id)\"}"))
            usleep(300_000)
        }
        try check(agent, status, ev, bus)
    }

    @Test func powerOffGoesThroughLogind() throws {
        try sleepTwice(mode: "yes") { agent, status, ev, bus in
            #expect(agent.stderr.contains("power-off path via=systemd-logind CanPowerOff=yes"), "\(agent.stderr)")
            #expect(status.wait(timeout: 10) { l in l.contains { $0.contains("\"state\":\"sleeping\"") } }, "\(status.lines)")
            #expect(bus.service.wait(timeout: 10) { $0.contains("PowerOff interactive=False") }, "\(bus.service.lines) \(agent.stderr)")
            // draining, then sleeping, then the call: in that order.
            let states = status.lines.compactMap { try? payload($0)["state"] as? String }
            #expect(states.firstIndex(of: "draining") ?? 99 < states.firstIndex(of: "sleeping") ?? -1, "\(states)")
            #expect(bus.service.lines.filter { $0.hasPrefix("PowerOff") }.count == 1)
            #expect(!agent.stderr.contains("power-off failed"))
        }
    }

    /// With no power_off configured, a simulated node's sleep halts the simulation only:
    /// logind is reachable and would say yes, and is never called.
    @Test func aSimulatedNodeNeverPowersOffTheHost() throws {
        try sleepTwice(mode: "yes", powerOff: "") { agent, status, _, bus in
            #expect(status.wait(timeout: 10) { l in l.contains { $0.contains("\"state\":\"sleeping\"") } }, "\(status.lines)")
            #expect(agent.wait(timeout: 10) { _ in agent.stderr.contains("simulated node halted; this machine stays up") }, "\(agent.stderr)")
            usleep(500_000)
            #expect(!bus.service.lines.contains { $0.hasPrefix("PowerOff") || $0.hasPrefix("CanPowerOff") }, "\(bus.service.lines)")
            #expect(agent.process.isRunning)
            // The system stopping the agent as it halts: the retained status still says
            // sleeping (offline), so a coordinator knows the node is asleep, not lost.
            agent.stop(SIGTERM)
            let last = status.lines.compactMap { try? payload($0) }.last
            #expect(status.wait(timeout: 5) { l in l.contains { $0.contains("\"online\":false") } }, "\(status.lines)")
            let final = try #require(status.lines.compactMap { try? payload($0) }.last { $0["online"] as? Bool == false })
            #expect(final["state"] as? String == "sleeping", "\(final) after \(String(describing: last))")
        }
    }

    @Test func aRefusedPowerOffKeepsTheNodeInService() throws {
        try sleepTwice(mode: "denied") { agent, status, ev, bus in
            #expect(agent.stderr.contains("systemd-logind will not power off for this user CanPowerOff=challenge"), "\(agent.stderr)")
            #expect(bus.service.wait(timeout: 10) { $0.contains("PowerOff interactive=False") }, "\(bus.service.lines)")
            #expect(ev.wait(timeout: 10) { l in l.contains { $0.contains("\"power-off-failed\"") } }, "\(ev.lines)")
            let failed = try #require(ev.lines.compactMap { try? payload($0) }.first { $0["type"] as? String == "power-off-failed" })
            let error = failed["error"] as? String ?? ""
            #expect(error.contains("Interactive authentication required"), "\(error)")
            #expect(error.contains("polkit rule for org.freedesktop.login1.power-off"), "\(error)")
            // Back to awake, published, and still running and sampling.
            #expect(status.wait(timeout: 10) { l in l.last?.contains("\"state\":\"awake\"") == true }, "\(status.lines)")
            #expect(agent.process.isRunning)
        }
    }

    /// Before powering off, the agent waits (3 s at most) for the broker to acknowledge
    /// `sleeping`; a broker that does not answer delays the power-off, never prevents it.
    @Test func powerOffWaitsBrieflyForTheBroker() throws {
        defer { keys.remove() }
        let broker = try Broker()
        let marker = keys.dir.appendingPathComponent("powered-off")
        let cfg = try config("node: sleeper\nboard: sim\nsample_interval_s: 0.5\ndrain_timeout_s: 2\npower_off_command: [/usr/bin/touch, \(marker.path)]\n")
        let agent = try LineCollector(AgentBinary.path, ["run", "--config", cfg, "--broker", broker.url,
                                                         "--command-key", "coordinator=\(keys.path("coordinator.pub"))"])
        defer { agent.stop(); broker.freeze(false) }
        #expect(agent.wait(timeout: 10) { _ in agent.stderr.contains("MQTT connected") }, "\(agent.stderr)")
        try keys.publish(port: broker.port, "nexusgrid/v1/sleeper/cmd/sleep", try keys.sign("sleep", node: "sleeper", payload: #"{"id":"s-1"}"#))
        #expect(agent.wait(timeout: 10) { _ in agent.stderr.contains("draining before sleep") }, "\(agent.stderr)")
        broker.freeze(true)
        let frozenAt = Date()
        #expect(agent.wait(timeout: 15) { _ in FileManager.default.fileExists(atPath: marker.path) }, "\(agent.stderr)")
        #expect(agent.stderr.contains("powering off before the broker acknowledged the last status and events"), "\(agent.stderr)")
        // The drain timeout (2 s, counted from the sleep) plus the 3 s wait.
        #expect(Date().timeIntervalSince(frozenAt) >= 3.5)
    }
}
