import Testing
import Foundation

/// `--policy on` end to end: a real mosquitto, real simulated agents that trust the
/// coordinator's key, and the built coordinator. Loads come from files (--sim-load), so
/// the test decides when the fleet is idle and when it is busy.
@Suite(.serialized) struct PolicyActsTests {
    final class Fleet {
        let dir: URL
        let mqttPort: Int
        let agentPath: String
        var agents: [String: Child] = [:]
        var configs: [String: String] = [:]

        init(agentPath: String) throws {
            self.agentPath = agentPath
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("nexus-acts-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            mqttPort = try freePort()
        }

        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

        func run(_ exe: String, _ args: [String]) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: exe)
            p.arguments = args
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(exe) \(args)")
        }

        func setLoad(_ node: String, _ load: Double) throws {
            try "\(load)\n".write(toFile: path("\(node).load"), atomically: true, encoding: .utf8)
        }

        /// Starts (or, after a simulated power-up, restarts) a node's agent.
        func start(_ node: String, config: String? = nil) throws {
            if let config { configs[node] = config }
            let cfg = path("\(node).yaml")
            try (configs[node] ?? "").write(toFile: cfg, atomically: true, encoding: .utf8)
            agents[node]?.stop()
            agents[node] = try Child(agentPath, ["run", "--config", cfg, "--broker", "mqtt://127.0.0.1:\(mqttPort)",
                                                 "--sim-load", path("\(node).load"),
                                                 "--command-key", "coordinator=\(path("coordinator.pub"))"])
        }

        func stopAll() {
            agents.values.forEach { $0.stop() }
            try? FileManager.default.removeItem(at: dir)
        }
    }

    func nodes(_ base: String) async -> [String: [String: Any]] {
        guard let (_, json) = try? await httpJSON(base + "/v1/nodes"),
              let list = (json as? [String: Any])?["nodes"] as? [[String: Any]] else { return [:] }
        return Dictionary(uniqueKeysWithValues: list.compactMap { n in (n["name"] as? String).map { ($0, n) } })
    }

    func decisions(_ base: String) async -> [[String: Any]] {
        guard let (_, json) = try? await httpJSON(base + "/v1/decisions") else { return [] }
        return ((json as? [String: Any])?["decisions"] as? [[String: Any]] ?? []).reversed() // oldest first
    }

    @Test func sleepsIdleNodesWithSignedCommandsAndWakesOneWhenLoadReturns() async throws {
        let coordinator = try #require(coordinatorBin, "build nexus-coordinator first")
        let agent = try #require(agentBin, "build the root package's nexus-agent first (tools/test does)")
        let fleet = try Fleet(agentPath: agent)
        defer { fleet.stopAll() }
        try fleet.run("/usr/bin/openssl", ["genpkey", "-algorithm", "ed25519", "-out", fleet.path("coordinator.pem")])
        try fleet.run("/usr/bin/openssl", ["pkey", "-in", fleet.path("coordinator.pem"), "-pubout", "-out", fleet.path("coordinator.pub")])
        try "listener \(fleet.mqttPort) 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n"
            .write(toFile: fleet.path("mosquitto.conf"), atomically: true, encoding: .utf8)
        let broker = try Child("/usr/sbin/mosquitto", ["-c", fleet.path("mosquitto.conf")])
        defer { broker.stop() }
        try await Task.sleep(for: .milliseconds(300))

        // head wakes n1 by cutting its PoE and n2 by a GPIO pulse; the PC has no way to be woken.
        for n in ["head", "n1", "n2", "pc"] { try fleet.setLoad(n, 0.05) }
        try fleet.start("head", config: """
            node: head
            board: sim
            sample_interval_s: 0.5
            wake_targets:
              n1: {method: poe-relay, relay: poe1}
              n2: {method: gpio-pulse, line: GPIO5, pulse_ms: 200}
            """)
        try fleet.start("n1", config: "node: n1\nboard: sim\nsample_interval_s: 0.5\nwake: {method: poe-relay, via: head}\n")
        try fleet.start("n2", config: "node: n2\nboard: sim\nsample_interval_s: 0.5\nwake: {method: gpio-pulse, via: head}\n")
        try fleet.start("pc", config: "node: pc\nboard: sim-pc\nsample_interval_s: 0.5\n")

        let httpPort = try freePort()
        try """
            broker: mqtt://127.0.0.1:\(fleet.mqttPort)
            listen: 127.0.0.1:\(httpPort)
            database: ":memory:"
            commands: {key: \(fleet.path("coordinator.pem"))}
            policy:
              mode: on
              interval_s: 1
              protect: [head]
              min_awake: 2
              sleep_hold_s: 2
              wake_hold_s: 2
              cooldown_after_wake_s: 0
              stale_s: 10
            """.write(toFile: fleet.path("coordinator.yaml"), atomically: true, encoding: .utf8)
        let coord = try Child(coordinator, ["--config", fleet.path("coordinator.yaml")])
        defer { coord.stop() }
        let base = "http://127.0.0.1:\(httpPort)"

        // Idle: n1 and n2 go to sleep, one at a time; head (protected) and the PC (nobody
        // can wake it) stay up, and so the minimum of two awake holds.
        let slept = await until(60) {
            let n = await nodes(base)
            return n["n1"]?["state"] as? String == "sleeping" && n["n2"]?["state"] as? String == "sleeping"
        }
        #expect(slept, "coordinator: \(coord.stderr)")
        let n = await nodes(base)
        #expect(n["head"]?["state"] as? String == "awake" && n["pc"]?["state"] as? String == "awake")
        var d = await decisions(base)
        let sleeps = d.filter { $0["action"] as? String == "sleep" }
        #expect(Set(sleeps.compactMap { $0["node"] as? String }) == ["n1", "n2"] && sleeps.count == 2, "\(d)")
        #expect(sleeps.allSatisfy { $0["acted"] as? Bool == true })
        #expect(coord.stderr.contains("command sent verb=sleep node=n1"))
        // Each agent verified the coordinator's signature, drained, and took the go-ahead.
        // (The agent logs the halt after the broker acknowledged `sleeping`: wait for it.)
        for a in ["n1", "n2"] {
            let agent = try #require(fleet.agents[a])
            #expect(await until(10) { agent.stderr.contains("simulated node halted") }, "\(a): \(agent.stderr)")
            let log = agent.stderr
            #expect(!log.contains("command rejected"), "\(a): \(log)")
        }
        try await Task.sleep(for: .seconds(3))
        #expect(await decisions(base).filter { $0["action"] as? String == "sleep" }.count == 2) // the minimum holds

        let events = try Child("/usr/bin/mosquitto_sub", ["-h", "127.0.0.1", "-p", "\(fleet.mqttPort)", "-t", "nexusgrid/v1/head/event"],
                               stdout: true)
        defer { events.stop() }
        // Busy again: the policy wakes the most efficient sleeper through head.
        try fleet.setLoad("head", 0.95)
        try fleet.setLoad("pc", 0.95)
        var wake: [String: Any]?
        _ = await until(30) {
            wake = await decisions(base).first { $0["action"] as? String == "wake" }
            return wake != nil
        }
        let w = try #require(wake, "coordinator: \(coord.stderr)")
        let target = try #require(w["node"] as? String)
        #expect(w["via"] as? String == "head")
        #expect(w["method"] as? String == (target == "n1" ? "poe-relay" : "gpio-pulse"))
        // Until it is back, everyone sees it waking.
        #expect(await nodes(base)[target]?["state"] as? String == "waking")
        // head carries it out (the relay's minimum off-time is 5 s); then the node "boots".
        let done = target == "n1" ? #""outcome":"powered""# : #""outcome":"pulsed""#
        #expect(await until(20) { events.stderr.contains(#""target":"\#(target)""#) && events.stderr.contains(done) },
                "head's events: \(events.stderr)")
        try fleet.setLoad(target, 0.5)
        try fleet.start(target)
        #expect(await until(20) { await nodes(base)[target]?["state"] as? String == "awake" }, "coordinator: \(coord.stderr)")
        d = await decisions(base)
        #expect(!d.contains { ["alert", "timeout", "aborted"].contains($0["action"] as? String ?? "") }, "\(d)")

        // SIGTERM: the HTTP server stops, the model is saved, the feed disconnects cleanly.
        kill(coord.process.processIdentifier, SIGTERM)
        coord.process.waitUntilExit()
        #expect(coord.process.terminationStatus == 0)
        #expect(coord.stderr.contains("stopping") && coord.stderr.contains("feed stopped"), "\(coord.stderr)")
    }
}
