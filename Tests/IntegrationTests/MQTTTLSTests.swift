import Foundation
import Testing

/// TLS with client certificates: a CA made at test time, mosquitto requiring a
/// certificate and taking the user name from its CN, and an ACL that confines each node
/// to its own topics.
@Suite(.serialized) struct MQTTTLSTests {
    let dir: URL

    init() throws {
        dir = try temporaryDirectory("tls")
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=nexus-test-ca", "-days", "1"])
        try issue("broker", san: "IP:127.0.0.1")
        try issue("tls-node")
        try issue("admin")
        // A second CA that the broker does not trust.
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", "rogue-ca.key", "-out", "rogue-ca.crt", "-subj", "/CN=rogue", "-days", "1"])
        try issue("tls-node", as: "rogue-node", ca: "rogue-ca")
    }

    func openssl(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = args
        p.currentDirectoryURL = dir
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "openssl \(args)")
    }

    /// A key and a certificate with CN `cn`, signed by `ca`, in files named `file`.
    func issue(_ cn: String, as file: String? = nil, ca: String = "ca", san: String? = nil) throws {
        let f = file ?? cn
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", "\(f).key", "-out", "\(f).csr", "-subj", "/CN=\(cn)"])
        var args = ["x509", "-req", "-in", "\(f).csr", "-CA", "\(ca).crt", "-CAkey", "\(ca).key", "-CAcreateserial",
                    "-out", "\(f).crt", "-days", "1"]
        if let san {
            try "subjectAltName=\(san)\n".write(to: dir.appendingPathComponent("\(f).ext"), atomically: true, encoding: .utf8)
            args += ["-extfile", "\(f).ext"]
        }
        try openssl(args)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func broker() throws -> Broker {
        let acl = dir.appendingPathComponent("acl")
        try "user admin\ntopic read #\n\npattern readwrite nexusgrid/v1/%u/#\n".write(to: acl, atomically: true, encoding: .utf8)
        return try Broker(extraConfig: """
            cafile \(path("ca.crt"))
            certfile \(path("broker.crt"))
            keyfile \(path("broker.key"))
            require_certificate true
            use_identity_as_username true
            acl_file \(acl.path)

            """)
    }

    func adminSubscribe(_ broker: Broker, _ topic: String, timeout: Int) throws -> [String] {
        try broker.subscribe(topic, count: 1, timeout: timeout,
                             extra: ["--cafile", path("ca.crt"), "--cert", path("admin.crt"), "--key", path("admin.key")])
    }

    func agent(_ broker: Broker, node: String, cert: String) throws -> LineCollector {
        try LineCollector(AgentBinary.path, ["run", "--board", "sim", "--node", node, "--interval", "0.3",
                                             "--broker", "mqtts://127.0.0.1:\(broker.port)", "--ca", path("ca.crt"),
                                             "--cert", path("\(cert).crt"), "--key", path("\(cert).key")])
    }

    @Test func nodePublishesOverTLSWithItsCertificate() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let b = try broker()
        let a = try agent(b, node: "tls-node", cert: "tls-node")
        defer { a.stop() }
        let status = try adminSubscribe(b, "nexusgrid/v1/tls-node/status", timeout: 15)
        let s = try payload(try #require(status.first, "agent log: \(a.stderr)"))
        #expect(s["online"] as? Bool == true)
        #expect(a.stderr.contains("MQTT connected broker=mqtts://127.0.0.1"))
    }

    @Test func aclConfinesANodeToItsOwnTopics() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let b = try broker()
        // The certificate says tls-node; publishing as "intruder" is refused by the ACL.
        let a = try agent(b, node: "intruder", cert: "tls-node")
        defer { a.stop() }
        #expect(a.wait(timeout: 10) { _ in a.stderr.contains("MQTT connected") }, "\(a.stderr)")
        usleep(1_000_000)
        #expect(try adminSubscribe(b, "nexusgrid/v1/intruder/#", timeout: 3).isEmpty)
    }

    @Test func certificateFromAnotherCAIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let b = try broker()
        let a = try agent(b, node: "tls-node", cert: "rogue-node")
        defer { a.stop() }
        // Generous: under a loaded machine the first TLS attempt can take a while to fail.
        #expect(a.wait(timeout: 30) { _ in a.stderr.contains("MQTT connect failed") }, "\(a.stderr)")
        #expect(!a.stderr.contains("MQTT connected"))
        #expect(a.stderr.contains("TLS handshake or login refused"), "\(a.stderr)")
        #expect(try adminSubscribe(b, "nexusgrid/v1/tls-node/status", timeout: 3).isEmpty)
    }
}
