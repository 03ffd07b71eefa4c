import Foundation
import Testing

/// The feed against a real mosquitto, read by an independent client (mosquitto_sub).
@Suite(.serialized) struct MQTTFeedTests {
    func agent(_ broker: Broker, node: String, extra: [String] = []) throws -> LineCollector {
        try LineCollector(AgentBinary.path, ["run", "--board", "sim", "--node", node, "--broker", broker.url,
                                             "--interval", "0.2", "--print-samples"] + extra)
    }

    @Test func statusTelemetryAndCleanExit() throws {
        let broker = try Broker()
        let a = try agent(broker, node: "feed-1")
        #expect(a.wait(timeout: 10) { $0.count >= 3 })
        // Retained: a client that subscribes after the fact gets it.
        let status = try broker.subscribe("nexusgrid/v1/feed-1/status", count: 1)
        let s = try payload(try #require(status.first))
        #expect(s["online"] as? Bool == true)
        #expect(s["state"] as? String == "awake")
        #expect(s["board"] as? String == "sim")
        let caps = try #require(s["capabilities"] as? [String: Any])
        #expect(caps["relays"] as? [String] == ["poe1"])
        #expect(caps["sensors"] as? [String] == ["node"])

        let telemetry = try broker.subscribe("nexusgrid/v1/feed-1/telemetry", count: 3)
        #expect(telemetry.count == 3)
        let seqs = try telemetry.map { try payload($0)["seq"] as? Int ?? -1 }
        #expect(seqs == seqs.sorted() && Set(seqs).count == 3 && seqs.allSatisfy { $0 > 0 }, "\(seqs)")
        let t = try payload(telemetry[0])
        #expect(t["node"] as? String == "feed-1")
        #expect((t["power"] as? [[String: Any]])?.first?["power_w"] as? Double != nil)

        a.stop(SIGTERM)
        #expect(a.process.terminationStatus == 0)
        let after = try payload(try #require(try broker.subscribe("nexusgrid/v1/feed-1/status", count: 1).first))
        #expect(after["online"] as? Bool == false)
        #expect(after["state"] as? String == "offline")
    }

    /// --sim-load: each simulated node's load comes from a file, and its power follows.
    @Test func aSimulatedNodeTakesItsLoadFromAFile() throws {
        let broker = try Broker()
        let load = FileManager.default.temporaryDirectory.appendingPathComponent("sim-load-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: load) }
        try "0.75\n".write(to: load, atomically: true, encoding: .utf8)
        let a = try agent(broker, node: "load-1", extra: ["--sim-load", load.path])
        #expect(a.wait(timeout: 10) { $0.count >= 2 })
        func latest() throws -> (Double?, Double?) {
            let t = try payload(try #require(try broker.subscribe("nexusgrid/v1/load-1/telemetry", count: 1).first))
            return ((t["cpu"] as? [String: Any])?["utilisation"] as? Double, t["total_power_w"] as? Double)
        }
        var (u, w) = try latest()
        #expect(u == 0.75)
        // sim: 2.7 W idle, 6.4 W at full load; the INA219 model rounds to its LSB.
        #expect(abs((w ?? 0) - (2.7 + 0.75 * 3.7)) < 0.05, "\(String(describing: w))")
        try "0.1".write(to: load, atomically: true, encoding: .utf8)
        for _ in 0..<20 where u != 0.1 {
            usleep(200_000)
            (u, w) = try latest()
        }
        #expect(u == 0.1)
        #expect(abs((w ?? 0) - (2.7 + 0.1 * 3.7)) < 0.05, "\(String(describing: w))")
        a.stop(SIGTERM)
        // Refused on a board with real sensors.
        let r = try AgentBinary.agent(["run", "--board", "pi4b", "--node", "x", "--sim-load", load.path])
        #expect(r.status == 2 && r.stderr.contains("--sim-load is for simulated boards"), "\(r.stderr)")
    }

    @Test func lastWillWhenKilled() throws {
        let broker = try Broker()
        let a = try agent(broker, node: "feed-2")
        #expect(a.wait(timeout: 10) { $0.count >= 2 })
        let before = try payload(try #require(try broker.subscribe("nexusgrid/v1/feed-2/status", count: 1).first))
        #expect(before["online"] as? Bool == true)
        a.stop(SIGKILL)
        // The broker publishes the Last Will (retained) once it sees the socket close.
        var will: [String: Any] = [:]
        for _ in 0..<20 {
            will = try payload(try #require(try broker.subscribe("nexusgrid/v1/feed-2/status", count: 1).first))
            if will["online"] as? Bool == false { break }
            usleep(200_000)
        }
        #expect(will["online"] as? Bool == false)
        #expect(will["state"] as? String == "offline")
    }

    @Test func reconnectsAfterTheBrokerRestartsAndDeliversEventsRaisedMeanwhile() throws {
        let broker = try Broker()
        let a = try agent(broker, node: "feed-3")
        #expect(a.wait(timeout: 10) { $0.count >= 2 })
        broker.stop()
        // Two failed attempts (backoff 1 s, then 2 s, each ±20 %): the next is at least
        // 3.2 s away, time enough to bring the broker back and subscribe first.
        let deadline = Date().addingTimeInterval(15)
        while a.stderr.components(separatedBy: "MQTT connect failed").count < 3 && Date() < deadline { usleep(50_000) }
        #expect(a.stderr.contains("MQTT connection lost"))
        try broker.start()
        let events = try broker.follow("nexusgrid/v1/feed-3/event")
        defer { events.stop(SIGKILL) }
        #expect(events.wait(timeout: 20) { lines in lines.contains { $0.contains("\"type\":\"mqtt-disconnected\"") } },
                "events: \(events.lines); agent running: \(a.process.isRunning); agent log: \(a.stderr)")
        // The event carries the time it was raised, while the broker was away.
        if let line = events.lines.first(where: { $0.contains("mqtt-disconnected") }) {
            let e = try payload(line)
            #expect(e["seq"] as? Int == 1)
            #expect((e["reason"] as? String)?.isEmpty == false)
        }
        // The retained status is back (the broker lost it: no persistence).
        let status = try payload(try #require(try broker.subscribe("nexusgrid/v1/feed-3/status", count: 1, timeout: 15).first))
        #expect(status["online"] as? Bool == true)
        // Telemetry flows again.
        #expect(try broker.subscribe("nexusgrid/v1/feed-3/telemetry", count: 2).count == 2)
        a.stop()
    }

    @Test func homeAssistantDiscoveryWhenSwitchedOn() throws {
        let broker = try Broker()
        let a = try agent(broker, node: "ha-1", extra: ["--home-assistant"])
        defer { a.stop() }
        #expect(a.wait(timeout: 10) { $0.count >= 4 })
        // Total power, energy, state, the meter's power and the sim's one temperature.
        let configs = try broker.subscribe("homeassistant/#", count: 5, timeout: 10)
        #expect(configs.count == 5, "\(configs)")
        var byTopic: [String: [String: Any]] = [:]
        for line in configs { byTopic[String(line.prefix { $0 != " " })] = try payload(line) }
        let power = try #require(byTopic["homeassistant/sensor/ha-1/power/config"])
        #expect(power["device_class"] as? String == "power")
        #expect(power["unit_of_measurement"] as? String == "W")
        #expect(power["state_topic"] as? String == "nexusgrid/v1/ha-1/telemetry")
        #expect(power["availability_topic"] as? String == "nexusgrid/v1/ha-1/status")
        #expect((power["device"] as? [String: Any])?["identifiers"] as? [String] == ["nexusgrid_ha-1"])
        let energy = try #require(byTopic["homeassistant/sensor/ha-1/energy/config"])
        #expect(energy["state_class"] as? String == "total_increasing")
        #expect(energy["unit_of_measurement"] as? String == "kWh")
        #expect(byTopic["homeassistant/sensor/ha-1/temperature_0/config"]?["device_class"] as? String == "temperature")
        #expect(byTopic["homeassistant/sensor/ha-1/state/config"]?["value_template"] as? String == "{{ value_json.state }}")
        // The values those templates point at exist in the telemetry, and energy accumulates.
        let t = try broker.subscribe("nexusgrid/v1/ha-1/telemetry", count: 2)
        let e0 = try payload(t[0])["energy_kwh"] as? Double ?? -1
        let e1 = try payload(t[1])["energy_kwh"] as? Double ?? -1
        #expect(e0 > 0 && e1 > e0, "\(e0) \(e1)")
    }

    @Test func mqtt5FromTheConfigFile() throws {
        let broker = try Broker()
        let dir = try temporaryDirectory("mqtt5")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("agent.yaml")
        try "node: v5-node\nboard: sim\nsample_interval_s: 0.2\nmqtt:\n  broker: \(broker.url)\n  protocol: 5\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let a = try LineCollector(AgentBinary.path, ["run", "--config", config.path])
        defer { a.stop() }
        let status = try broker.subscribe("nexusgrid/v1/v5-node/status", count: 1, timeout: 10)
        #expect(try payload(try #require(status.first, "\(a.stderr)"))["online"] as? Bool == true)
        #expect(try broker.subscribe("nexusgrid/v1/v5-node/telemetry", count: 2).count == 2)
    }

    @Test func noDiscoveryByDefault() throws {
        let broker = try Broker()
        let a = try agent(broker, node: "ha-2")
        defer { a.stop() }
        #expect(a.wait(timeout: 10) { $0.count >= 3 })
        #expect(try broker.subscribe("homeassistant/#", count: 1, timeout: 2).isEmpty)
    }

    @Test func badBrokerURLIsAUsageError() throws {
        let r = try AgentBinary.agent(["run", "--board", "sim", "--broker", "http://x"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("is not mqtt://HOST[:PORT]"))
        let t = try AgentBinary.agent(["run", "--board", "sim", "--broker", "mqtts://127.0.0.1"])
        #expect(t.status == 2)
        #expect(t.stderr.contains("needs --ca"))
    }

    @Test func brokerDownAtStartIsRetried() throws {
        let port = try Broker.freePort()
        let a = try LineCollector(AgentBinary.path, ["run", "--board", "sim", "--node", "feed-4", "--broker", "mqtt://127.0.0.1:\(port)",
                                                     "--interval", "0.2", "--print-samples"])
        defer { a.stop() }
        #expect(a.wait(timeout: 5) { $0.count >= 3 }) // sampling goes on without the broker
        let broker = try Broker(port: port)
        let status = try broker.subscribe("nexusgrid/v1/feed-4/status", count: 1, timeout: 20)
        #expect(try payload(try #require(status.first))["online"] as? Bool == true)
    }
}
