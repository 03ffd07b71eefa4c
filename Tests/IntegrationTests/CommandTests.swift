import Foundation
import Testing

/// Signed commands over a real broker: only verified ones act; every rejection is
/// answered on the event topic and the agent keeps running.
@Suite(.serialized) struct CommandTests {
    let keys: Signer
    var dir: URL { keys.dir }

    init() throws {
        keys = try Signer(keys: ["coordinator", "rogue"])
    }

    func path(_ n: String) -> String { keys.path(n) }

    func sign(_ verb: String, node: String = "cmd-1", payload: String = "{}", key: String = "coordinator",
              extra: [String] = []) throws -> String {
        try keys.sign(verb, node: node, payload: payload, key: key, extra: extra)
    }

    func publish(_ broker: Broker, _ topic: String, _ message: String) throws {
        try keys.publish(port: broker.port, topic, message)
    }

    func events(_ c: LineCollector) throws -> [[String: Any]] { try c.lines.map { try payload($0) } }

    @Test func onlyVerifiedCommandsAct() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let broker = try Broker()
        let agent = try LineCollector(AgentBinary.path, ["run", "--board", "sim", "--node", "cmd-1", "--broker", broker.url,
                                                         "--interval", "0.5", "--command-key", "coordinator=\(path("coordinator.pub"))"])
        defer { agent.stop() }
        #expect(agent.wait(timeout: 10) { _ in agent.stderr.contains("MQTT connected") }, "\(agent.stderr)")
        let ev = try broker.follow("nexusgrid/v1/cmd-1/event")
        defer { ev.stop(SIGKILL) }
        usleep(300_000)
        let topic = "nexusgrid/v1/cmd-1/cmd/relay"

        // A good command: accepted, executed, answered with its id.
        let good = try sign("relay", payload: #"{"id":"c-1","channel":"poe1","action":"off"}"#)
        try publish(broker, topic, good)
        #expect(ev.wait(timeout: 10) { l in l.contains { $0.contains("\"command-result\"") } }, "\(ev.lines)")
        var e = try events(ev)
        #expect(e.contains { $0["type"] as? String == "command-accepted" && $0["id"] as? String == "c-1" })
        #expect(e.contains { $0["type"] as? String == "relay" && $0["powered"] as? String == "false" })
        #expect(e.contains { $0["type"] as? String == "command-result" && $0["id"] as? String == "c-1" && $0["outcome"] as? String == "ok" })

        func rejected(_ message: String, on t: String = topic, reason: String) throws {
            let before = ev.lines.count
            try publish(broker, t, message)
            #expect(ev.wait(timeout: 10) { $0.count > before && $0.last?.contains("command-rejected") == true }, "\(ev.lines)")
            let last = try payload(try #require(ev.lines.last))
            #expect(last["reason"] as? String == reason, "\(last)")
        }
        // The same message again: a replay.
        try rejected(good, reason: "replayed")
        // Unsigned, signed by a key the node does not trust, stale, and signed for another node.
        try rejected(#"{"id":"c-2","channel":"poe1","action":"on"}"#, reason: "malformed")
        try rejected(try sign("relay", payload: #"{"channel":"poe1","action":"on"}"#, key: "rogue"), reason: "bad-signature")
        let old = Int64(Date().timeIntervalSince1970 * 1000) - 120_000
        try rejected(try sign("relay", payload: #"{"channel":"poe1","action":"on"}"#, extra: ["--timestamp-ms", "\(old)"]), reason: "stale")
        try rejected(try sign("relay", node: "cmd-2", payload: #"{"channel":"poe1","action":"on"}"#), reason: "bad-signature")
        // A verified command with a bad argument is refused too.
        try rejected(try sign("relay", payload: #"{"channel":"poe1","action":"explode"}"#), reason: "bad-command")

        // None of them acted: the relay is still off, and the agent still runs and samples.
        e = try events(ev)
        #expect(e.filter { $0["type"] as? String == "relay" }.count == 1)
        #expect(agent.process.isRunning)
        let status = try payload(try #require(try broker.subscribe("nexusgrid/v1/cmd-1/status", count: 1).first))
        #expect(status["online"] as? Bool == true)

        // identify through a verified command.
        try publish(broker, "nexusgrid/v1/cmd-1/cmd/identify", try sign("identify", payload: #"{"id":"c-9","seconds":2}"#))
        #expect(ev.wait(timeout: 10) { l in l.contains { $0.contains("\"c-9\"") && $0.contains("command-result") } })
    }

    /// sleep: draining (published, retained) until the go-ahead, then sleeping and the
    /// power-off path (here it only leaves a mark).
    @Test func sleepDrainsThenSleepsOnTheGoAhead() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let broker = try Broker()
        let marker = dir.appendingPathComponent("powered-off")
        let config = dir.appendingPathComponent("agent.yaml")
        try "node: cmd-1\nboard: sim\nsample_interval_s: 0.5\npower_off_command: [/usr/bin/touch, \(marker.path)]\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let agent = try LineCollector(AgentBinary.path, ["run", "--config", config.path, "--broker", broker.url,
                                                         "--command-key", "coordinator=\(path("coordinator.pub"))"])
        defer { agent.stop() }
        #expect(agent.wait(timeout: 10) { _ in agent.stderr.contains("MQTT connected") }, "\(agent.stderr)")
        let status = try broker.follow("nexusgrid/v1/cmd-1/status")
        defer { status.stop(SIGKILL) }
        #expect(status.wait(timeout: 10) { l in l.contains { $0.contains("\"state\":\"awake\"") } })
        try publish(broker, "nexusgrid/v1/cmd-1/cmd/sleep", try sign("sleep", payload: #"{"id":"s-1"}"#))
        #expect(status.wait(timeout: 10) { l in l.contains { $0.contains("\"state\":\"draining\"") } }, "\(status.lines)")
        usleep(500_000)
        #expect(!FileManager.default.fileExists(atPath: marker.path)) // no power-off before the go-ahead
        try publish(broker, "nexusgrid/v1/cmd-1/cmd/sleep", try sign("sleep", payload: #"{"id":"s-2"}"#))
        #expect(status.wait(timeout: 10) { l in l.contains { $0.contains("\"state\":\"sleeping\"") } }, "\(status.lines)")
        #expect(agent.wait(timeout: 10) { _ in FileManager.default.fileExists(atPath: marker.path) }, "\(agent.stderr)")
        #expect(agent.stderr.contains("powering off"))
    }

    @Test func withoutKeysEveryCommandIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let broker = try Broker()
        let agent = try LineCollector(AgentBinary.path, ["run", "--board", "sim", "--node", "cmd-1", "--broker", broker.url, "--interval", "0.5"])
        defer { agent.stop() }
        #expect(agent.wait(timeout: 10) { _ in agent.stderr.contains("MQTT connected") })
        let ev = try broker.follow("nexusgrid/v1/cmd-1/event")
        defer { ev.stop(SIGKILL) }
        usleep(300_000)
        try publish(broker, "nexusgrid/v1/cmd-1/cmd/sleep", try sign("sleep"))
        #expect(ev.wait(timeout: 10) { l in l.contains { $0.contains("\"no-keys\"") } }, "\(ev.lines)")
        #expect(agent.process.isRunning)
    }

    @Test func signRefusesBadInput() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try AgentBinary.agent(["sign", "--key", path("coordinator.pem"), "--node", "n", "--verb", "explode"]).status == 2)
        #expect(try AgentBinary.agent(["sign", "--key", path("coordinator.pub"), "--node", "n", "--verb", "sleep"]).status == 1)
        #expect(try AgentBinary.agent(["sign", "--key", path("coordinator.pem"), "--node", "n", "--verb", "sleep", "--payload", "[1]"]).status == 2)
    }
}
