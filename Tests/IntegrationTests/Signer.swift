import Foundation
import Testing

/// Ed25519 keys made with openssl for a test, and signed commands made with
/// `nexus-agent sign`, published with mosquitto_pub (optionally inside a namespace).
struct Signer {
    let dir: URL

    init(keys: [String] = ["coordinator"]) throws {
        dir = try temporaryDirectory("keys")
        for name in keys {
            try Signer.run("/usr/bin/openssl", ["genpkey", "-algorithm", "ed25519", "-out", dir.appendingPathComponent("\(name).pem").path])
            try Signer.run("/usr/bin/openssl", ["pkey", "-in", dir.appendingPathComponent("\(name).pem").path, "-pubout",
                                                "-out", dir.appendingPathComponent("\(name).pub").path])
        }
    }

    func path(_ n: String) -> String { dir.appendingPathComponent(n).path }

    static func run(_ exe: String, _ args: [String]) throws {
        let r = try AgentBinary.run(exe, args)
        #expect(r.status == 0, "\(exe) \(args): \(r.stderr)")
    }

    func sign(_ verb: String, node: String, payload: String = "{}", key: String = "coordinator", extra: [String] = []) throws -> String {
        let r = try AgentBinary.agent(["sign", "--key", path("\(key).pem"), "--node", node, "--verb", verb, "--payload", payload] + extra)
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// mosquitto_pub at QoS 1 to a broker on 127.0.0.1 (of `netns`, when given).
    func publish(port: Int, _ topic: String, _ message: String, netns: String? = nil) throws {
        let args = ["-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-t", topic, "-m", message]
        if let netns {
            try Signer.run("/usr/sbin/ip", ["netns", "exec", netns, "/usr/bin/mosquitto_pub"] + args)
        } else {
            try Signer.run("/usr/bin/mosquitto_pub", args)
        }
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }
}
