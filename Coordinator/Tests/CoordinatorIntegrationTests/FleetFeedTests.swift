import Testing
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Finds a built executable: $ENV, else the first existing candidate path.
func binary(_ env: String, _ candidates: [String]) -> String? {
    if let p = ProcessInfo.processInfo.environment[env] { return p }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}

let packageDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let coordinatorBin = binary("NEXUS_COORDINATOR_BIN", [packageDir.appendingPathComponent(".build/debug/nexus-coordinator").path])
let agentBin = binary("NEXUS_AGENT_BIN", [packageDir.deletingLastPathComponent().appendingPathComponent(".build/debug/nexus-agent").path])

func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard ok else { throw CocoaError(.featureUnsupported) }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// A child process with stderr to a file, killed at the end.
final class Child {
    let process = Process()
    let log: URL
    /// `stdout`: into the same log (for mosquitto_sub), else discarded.
    init(_ exe: String, _ args: [String], stdout: Bool = false) throws {
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = args
        log = FileManager.default.temporaryDirectory.appendingPathComponent("nexus-child-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = stdout ? try FileHandle(forWritingTo: log) : FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
    }
    var stderr: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: log)
    }
}

/// Polls `what` every 250 ms until it holds or `seconds` pass; its last answer.
func until(_ seconds: Double, _ what: () async -> Bool) async -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if await what() { return true }
        try? await Task.sleep(for: .milliseconds(250))
    }
    return await what()
}

func httpJSON(_ url: String, body: String? = nil) async throws -> (Int, Any) {
    var req = URLRequest(url: URL(string: url)!)
    if let body {
        req.httpMethod = "POST"
        req.httpBody = Data(body.utf8)
        req.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    let (data, response) = try await URLSession.shared.data(for: req)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, try JSONSerialization.jsonObject(with: data))
}

@Suite(.serialized) struct FleetFeedTests {
    /// Three simulated agents publish to a real broker; the coordinator's model, hints and
    /// extender follow what they say, including one going to sleep.
    @Test func theCoordinatorSeesTheFleetThroughTheBroker() async throws {
        let coordinator = try #require(coordinatorBin, "build nexus-coordinator first")
        let agent = try #require(agentBin, "build the root package's nexus-agent first (tools/test does)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nexus-coord-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let mqttPort = try freePort(), httpPort = try freePort()
        let conf = dir.appendingPathComponent("mosquitto.conf")
        try "listener \(mqttPort) 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n".write(to: conf, atomically: true, encoding: .utf8)
        let broker = try Child("/usr/sbin/mosquitto", ["-c", conf.path])
        defer { broker.stop() }
        try await Task.sleep(for: .milliseconds(300))
        let dbPath = dir.appendingPathComponent("fleet.sqlite").path
        let coordArgs = ["--broker", "mqtt://127.0.0.1:\(mqttPort)", "--listen", "127.0.0.1:\(httpPort)",
                         "--database", dbPath, "--save-interval", "1"]
        let coord = try Child(coordinator, coordArgs)
        defer { coord.stop() }
        let cfg = dir.appendingPathComponent("agent-c.yaml")
        try "node: sim-c\nboard: sim\nsample_interval_s: 0.5\n".write(to: cfg, atomically: true, encoding: .utf8)
        let agents = try [
            Child(agent, ["run", "--board", "sim", "--node", "sim-a", "--interval", "0.5", "--broker", "mqtt://127.0.0.1:\(mqttPort)"]),
            Child(agent, ["run", "--board", "sim-pc", "--node", "pc-b", "--interval", "0.5", "--broker", "mqtt://127.0.0.1:\(mqttPort)"]),
            Child(agent, ["run", "--config", cfg.path, "--broker", "mqtt://127.0.0.1:\(mqttPort)"]),
        ]
        defer { agents.forEach { $0.stop() } }
        let base = "http://127.0.0.1:\(httpPort)"

        var nodes: [[String: Any]] = []
        for _ in 0..<100 {
            if let (_, json) = try? await httpJSON(base + "/v1/nodes"), let n = (json as? [String: Any])?["nodes"] as? [[String: Any]],
               n.count == 3, n.allSatisfy({ $0["watts"] is Double }) {
                nodes = n
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(nodes.map { $0["name"] as? String } == ["pc-b", "sim-a", "sim-c"], "coordinator: \(coord.stderr)")
        let pc = try #require(nodes.first)
        #expect(pc["board"] as? String == "sim-pc")
        // The sim-pc draws from 19 V at 9-65 W; the energy model starts from those figures.
        let watts = try #require(pc["watts"] as? Double)
        #expect(watts >= 8 && watts <= 66, "\(watts)")
        #expect((pc["energy_model"] as? [String: Any])?["samples"] as? Int ?? 0 >= 1)

        // All three schedulable now; the Pi-class sims are cheaper per unit of load than the PC.
        let args = #"{"Pod":{"metadata":{"name":"p"}},"Nodes":null,"NodeNames":["sim-a","pc-b","sim-c","k3s-server"]}"#
        let (code, filtered) = try await httpJSON(base + "/scheduler/filter", body: args)
        #expect(code == 200)
        #expect((filtered as? [String: Any])?["NodeNames"] as? [String] == ["sim-a", "pc-b", "sim-c", "k3s-server"])
        let (_, ranked) = try await httpJSON(base + "/scheduler/prioritize", body: args)
        let scores = Dictionary(uniqueKeysWithValues: ((ranked as? [[String: Any]]) ?? []).map { ($0["Host"] as! String, $0["Score"] as! Int) })
        #expect(scores["sim-a"] ?? 0 > scores["pc-b"] ?? 10, "\(scores)")
        #expect(scores["k3s-server"] == 0)

        // sim-c's agent dies: the broker publishes its Last Will (offline), and the
        // extender stops placing pods there.
        agents[2].stop()
        var refused: [String: String] = [:]
        for _ in 0..<150 {
            let (_, f) = try await httpJSON(base + "/scheduler/filter", body: args)
            refused = ((f as? [String: Any])?["FailedAndUnresolvableNodes"] as? [String: String]) ?? [:]
            if refused["sim-c"] != nil { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(refused["sim-c"] == "nexusgrid: node's agent is offline", "\(refused)")
        #expect(refused.count == 1)

        // A restart loses nothing: with the broker gone too, the new process still knows
        // the fleet from its database.
        try await Task.sleep(for: .milliseconds(1500)) // one save interval and some
        coord.stop()
        broker.stop()
        let again = try Child(coordinator, coordArgs)
        defer { again.stop() }
        var restored: [[String: Any]] = []
        for _ in 0..<100 {
            if let (_, json) = try? await httpJSON(base + "/v1/nodes"), let n = (json as? [String: Any])?["nodes"] as? [[String: Any]] {
                restored = n
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(restored.map { $0["name"] as? String } == ["pc-b", "sim-a", "sim-c"], "\(again.stderr)")
        #expect(restored.map { $0["board"] as? String } == ["sim-pc", "sim", "sim"])
        #expect(restored.last?["state"] as? String == "offline")
        #expect(((restored.first?["energy_model"] as? [String: Any])?["samples"] as? Int ?? 0) >= 1)
        #expect(again.stderr.contains("database path=\(dbPath) nodes=3"), "\(again.stderr)")
    }
}
