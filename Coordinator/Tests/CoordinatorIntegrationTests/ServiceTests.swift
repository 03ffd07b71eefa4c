import Testing
import Foundation

/// The coordinator as a `Type=notify` service: READY once HTTP listens, watchdog pings,
/// STOPPING on SIGTERM; the test's datagram socket stands in for systemd's.
@Suite struct ServiceTests {
    @Test func tellsSystemdWhenItIsReadyAliveAndStopping() async throws {
        let coordinator = try #require(coordinatorBin, "build nexus-coordinator first")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cn-\(UUID().uuidString.prefix(8))").path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd); unlink(path) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { buf in for (i, b) in path.utf8.enumerated() { buf[i] = b } }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        func receive(_ seconds: Double) -> [String] {
            var out: [String] = [], buf = [UInt8](repeating: 0, count: 2048)
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                let n = recv(fd, &buf, buf.count, 0)
                if n > 0 { out.append(String(decoding: buf[0..<n], as: UTF8.self)) }
            }
            return out
        }
        let httpPort = try freePort()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: coordinator)
        p.arguments = ["--broker", "mqtt://127.0.0.1:1", "--listen", "127.0.0.1:\(httpPort)", "--database", ":memory:"]
        p.environment = ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000", "PATH": "/usr/bin:/bin"]
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        let got = receive(3)
        #expect(got.contains { $0.hasPrefix("READY=1") && $0.contains("STATUS=serving on 127.0.0.1:\(httpPort), policy off") }, "\(got)")
        #expect(got.filter { $0 == "WATCHDOG=1" }.count >= 3, "\(got)")
        kill(p.processIdentifier, SIGTERM)
        #expect(receive(1).contains("STOPPING=1"))
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}
