import Foundation
import Testing

/// Wake-on-LAN across a veth pair between two network namespaces made for the test:
/// what arrives is captured on the far side and compared byte for byte with the packet
/// built by hand and with what Debian's etherwake and wakeonlan send.
@Suite(.serialized) struct WakeOnLANTests {
    let a = "nxwol-a-\(getpid())", b = "nxwol-b-\(getpid())"
    let mac = "00:11:22:33:44:55"
    let macBytes: [UInt8] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]

    func sh(_ cmd: String) throws -> AgentBinary.Result {
        try AgentBinary.run("/bin/sh", ["-c", cmd], timeout: 20)
    }

    func withNamespaces(_ body: () throws -> Void) throws {
        _ = try sh("ip netns del \(a) 2>/dev/null; ip netns del \(b) 2>/dev/null")
        let setup = try sh("""
            set -e
            ip netns add \(a); ip netns add \(b)
            ip link add wola0 netns \(a) type veth peer name wolb0 netns \(b)
            ip -n \(a) link set lo up; ip -n \(b) link set lo up
            ip -n \(a) link set wola0 up; ip -n \(b) link set wolb0 up
            ip -n \(a) addr add 192.0.2.1/24 dev wola0; ip -n \(b) addr add 192.0.2.2/24 dev wolb0
            ip -n \(a) route add default dev wola0
            """)
        #expect(setup.status == 0, "\(setup.stderr)")
        defer { _ = try? sh("ip netns del \(a); ip netns del \(b)") }
        try body()
    }

    /// Runs `command` in namespace A while tcpdump captures on B's end; returns the frames.
    func capture(_ command: String, filter: String, settle: useconds_t = 500_000) throws -> [[UInt8]] {
        let pcap = FileManager.default.temporaryDirectory.appendingPathComponent("wol-\(UUID().uuidString).pcap")
        defer { try? FileManager.default.removeItem(at: pcap) }
        let dump = try LineCollector("/usr/sbin/ip", ["netns", "exec", b, "tcpdump", "-i", "wolb0", "-U", "-n", "-w", pcap.path, filter])
        // tcpdump says "listening on" once it captures.
        #expect(dump.wait(timeout: 10) { _ in dump.stderr.contains("listening on") }, "\(dump.stderr)")
        let r = try sh("ip netns exec \(a) \(command)")
        #expect(r.status == 0, "\(command): \(r.stdout) \(r.stderr)")
        usleep(settle)
        dump.stop(SIGINT)
        return try frames(Array(try Data(contentsOf: pcap)))
    }

    /// Frames out of a pcap file (little-endian header, Ethernet link type).
    func frames(_ d: [UInt8]) throws -> [[UInt8]] {
        guard d.count >= 24 else { return [] }
        func u32(_ i: Int) -> Int { Int(d[i]) | Int(d[i + 1]) << 8 | Int(d[i + 2]) << 16 | Int(d[i + 3]) << 24 }
        var out: [[UInt8]] = []
        var i = 24
        while i + 16 <= d.count {
            let len = u32(i + 8)
            i += 16
            guard i + len <= d.count else { break }
            out.append(Array(d[i..<i + len]))
            i += len
        }
        return out
    }

    var expectedMagic: [UInt8] { [UInt8](repeating: 0xFF, count: 6) + (0..<16).flatMap { _ in macBytes } }

    @Test func udpMatchesTheHandBuiltPacketAndWakeonlan() throws {
        try withNamespaces {
            let ours = try capture("\(AgentBinary.path) wake --mac \(mac) --interface wola0", filter: "udp port 9")
            let theirs = try capture("wakeonlan -i 255.255.255.255 \(mac)", filter: "udp port 9")
            let o = try #require(ours.first), t = try #require(theirs.first)
            // Ethernet 14 + IPv4 20 + UDP 8, then the 102-byte magic packet.
            #expect(Array(o[42...]) == expectedMagic)
            #expect(Array(o[0..<6]) == [UInt8](repeating: 0xFF, count: 6)) // broadcast
            #expect(Array(t[42...]) == Array(o[42...]))
        }
    }

    @Test func rawFrameMatchesEtherwake() throws {
        try withNamespaces {
            for password in [nil, "aa:bb:cc:dd:ee:ff", "1.2.3.4"] as [String?] {
                let p = password.map { " --password \($0)" } ?? ""
                let ours = try capture("\(AgentBinary.path) wake --raw --interface wola0 --mac \(mac)\(p)", filter: "ether proto 0x0842")
                let theirs = try capture("etherwake -i wola0\(password.map { " -p \($0)" } ?? "") \(mac)", filter: "ether proto 0x0842")
                let o = try #require(ours.first, "\(password ?? "no password")"), t = try #require(theirs.first)
                #expect(o == t, "ours \(o.count) bytes, etherwake \(t.count) bytes, password \(password ?? "none")")
                #expect(Array(o[0..<6]) == macBytes)             // to the target, as etherwake does
                #expect(o[12] == 0x08 && o[13] == 0x42)
                let extra: [UInt8] = password == nil ? [] : password!.contains(".") ? [1, 2, 3, 4] : [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]
                #expect(Array(o[14...]) == expectedMagic + extra)
            }
        }
    }

    @Test func errorsSendNothing() throws {
        try withNamespaces {
            for (args, code, text) in [("--mac 00:11:22:33:44", 2, "not a MAC address"),
                                       ("--mac \(mac) --interface nope0", 1, "no network interface named nope0"),
                                       ("--mac \(mac) --raw", 2, "--raw needs --interface"),
                                       ("--mac \(mac) --password 1.2.3", 2, "--password")] as [(String, Int32, String)] {
                var result = AgentBinary.Result(status: 0, stdout: "", stderr: "")
                let frames = try capture("sh -c '\(AgentBinary.path) wake \(args) 2>/tmp/nx-wol-err; echo $? > /tmp/nx-wol-rc; true'",
                                         filter: "udp port 9 or ether proto 0x0842")
                result.stderr = (try? String(contentsOfFile: "/tmp/nx-wol-err", encoding: .utf8)) ?? ""
                result.status = Int32((try? String(contentsOfFile: "/tmp/nx-wol-rc", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1
                #expect(result.status == code, "\(args): \(result.stderr)")
                #expect(result.stderr.contains(text), "\(args): \(result.stderr)")
                #expect(frames.isEmpty, "\(args) sent \(frames.count) frames")
            }
            // Without CAP_NET_RAW (an unprivileged user), a raw frame is refused and says why.
            _ = try sh("rm -f /tmp/nx-wol-err; touch /tmp/nx-wol-err; chmod 666 /tmp/nx-wol-err")
            let frames = try capture("setpriv --reuid 65534 --regid 65534 --clear-groups sh -c '\(AgentBinary.path) wake --raw --interface wola0 --mac \(mac) 2>/tmp/nx-wol-err; true'",
                                     filter: "ether proto 0x0842")
            let err = (try? String(contentsOfFile: "/tmp/nx-wol-err", encoding: .utf8)) ?? ""
            #expect(err.contains("CAP_NET_RAW"), "\(err)")
            #expect(frames.isEmpty)
        }
    }

    /// The agent, its broker and the coordinator's publisher all inside namespace A: a
    /// signed `wake` for a wol target leaves as the same bytes `nexus-agent wake` sends,
    /// and the status reports whether this node's own NIC is armed (a veth cannot be).
    @Test func agentWakesAWolTargetOverTheFeed() throws {
        try withNamespaces {
            let keys = try Signer()
            defer { keys.remove() }
            let port = 18830
            let conf = keys.dir.appendingPathComponent("mosquitto.conf")
            try "listener \(port) 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n".write(to: conf, atomically: true, encoding: .utf8)
            let broker = try LineCollector("/usr/sbin/ip", ["netns", "exec", a, "/usr/sbin/mosquitto", "-c", conf.path])
            defer { broker.stop(SIGKILL) }
            let cfg = keys.dir.appendingPathComponent("agent.yaml")
            try """
                node: waker
                board: sim-pc
                sample_interval_s: 0.5
                wake: {method: wol, interface: wola0}
                wake_targets:
                  ws-1: {method: wol, mac: "\(mac)", interface: wola0}
                  ws-2: {method: wol, mac: "\(mac)", interface: wola0, raw: true, password: 1.2.3.4}
                """.write(to: cfg, atomically: true, encoding: .utf8)
            usleep(300_000)
            let agent = try LineCollector("/usr/sbin/ip", ["netns", "exec", a, AgentBinary.path, "run", "--config", cfg.path,
                                                           "--broker", "mqtt://127.0.0.1:\(port)",
                                                           "--command-key", "coordinator=\(keys.path("coordinator.pub"))"])
            defer { agent.stop() }
            #expect(agent.wait(timeout: 15) { _ in agent.stderr.contains("MQTT connected") }, "\(agent.stderr)")
            #expect(agent.stderr.contains("cannot tell whether Wake-on-LAN is armed on wola0"), "\(agent.stderr)")

            let status = try sh("ip netns exec \(a) mosquitto_sub -h 127.0.0.1 -p \(port) -t nexusgrid/v1/waker/status -C 1")
            let s = try json(status.stdout)
            let own = try #require(s["wake"] as? [String: Any])
            #expect(own["method"] as? String == "wol")
            #expect(own["interface"] as? String == "wola0")
            #expect(own["armed"] is NSNull, "\(own)")
            let warnings = s["warnings"] as? [String] ?? []
            #expect(warnings.count == 1 && warnings[0].contains("the driver does not do Wake-on-LAN"), "\(warnings)")

            func wake(_ target: String, _ id: String, filter: String) throws -> [[UInt8]] {
                let msg = keys.dir.appendingPathComponent("\(id).json")
                try keys.sign("wake", node: "waker", payload: "{\"id\":\"\(id)\",\"target\":\"\(target)\"}")
                    .write(to: msg, atomically: true, encoding: .utf8)
                return try capture("mosquitto_pub -h 127.0.0.1 -p \(port) -q 1 -t nexusgrid/v1/waker/cmd/wake -f \(msg.path)",
                                   filter: filter, settle: 1_500_000)
            }
            let udp = try wake("ws-1", "w-1", filter: "udp port 9")
            #expect(udp.count == 1 && Array(udp[0][42...]) == expectedMagic, "\(udp.count) frames; \(agent.stderr)")
            let raw = try wake("ws-2", "w-2", filter: "ether proto 0x0842")
            #expect(raw.count == 1 && Array(raw[0][14...]) == expectedMagic + [1, 2, 3, 4], "\(raw.count) frames")
            #expect(raw.first.map { Array($0[0..<6]) } == macBytes)
            // An unknown target sends nothing at all.
            let none = try wake("ws-9", "w-3", filter: "udp port 9 or ether proto 0x0842")
            #expect(none.isEmpty)
            #expect(agent.stderr.contains("wake failed target=ws-9"), "\(agent.stderr)")
        }
    }
}
