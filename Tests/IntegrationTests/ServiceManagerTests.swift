import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The agent as a `Type=notify` service: READY once running, watchdog pings from its
/// loop at half of WATCHDOG_USEC, STOPPING on the way out. The notify socket here is the
/// test's own, standing in for systemd's.
@Suite struct ServiceManagerTests {
    /// A datagram socket like systemd's NOTIFY_SOCKET; collects what arrives.
    final class NotifySocket {
        let path: String
        let fd: Int32

        init() throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8))").path
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { buf in
                for (i, b) in path.utf8.enumerated() where i < buf.count - 1 { buf[i] = b }
            }
            let ok = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            #expect(ok == 0, "bind \(path): \(errno)")
            var tv = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }

        /// Messages received within `seconds`, each with its arrival time.
        func receive(for seconds: Double) -> [(at: Date, text: String)] {
            var out: [(Date, String)] = []
            let end = Date().addingTimeInterval(seconds)
            var buf = [UInt8](repeating: 0, count: 4096)
            while Date() < end {
                let n = recv(fd, &buf, buf.count, 0)
                if n > 0 { out.append((Date(), String(decoding: buf[0..<n], as: UTF8.self))) }
            }
            return out
        }

        deinit {
            close(fd)
            unlink(path)
        }
    }

    @Test func readyWatchdogFromTheLoopAndStopping() throws {
        let sock = try NotifySocket()
        let agent = try LineCollector("/usr/bin/env", ["NOTIFY_SOCKET=\(sock.path)", "WATCHDOG_USEC=600000",
                                                       AgentBinary.path, "run", "--board", "sim", "--node", "svc-1", "--interval", "1"])
        defer { agent.stop() }
        let first = sock.receive(for: 2.0)
        let ready = try #require(first.first { $0.text.contains("READY=1") }, "\(first.map(\.text)) \(agent.stderr)")
        #expect(ready.text.contains("STATUS=running on sim as svc-1"))
        // Pings every 300 ms (half of 600 ms), none before READY.
        let pings = first.filter { $0.text == "WATCHDOG=1" }
        #expect(pings.count >= 4, "\(first.map(\.text))")
        #expect(first.firstIndex { $0.text.contains("READY=1") } ?? 99 < first.firstIndex { $0.text == "WATCHDOG=1" } ?? -1)
        if pings.count >= 2 {
            let gap = pings[pings.count - 1].at.timeIntervalSince(pings[0].at) / Double(pings.count - 1)
            #expect(gap > 0.15 && gap < 0.6, "mean gap \(gap) s")
        }
        agent.stop(SIGTERM)
        let last = sock.receive(for: 0.5)
        #expect(last.contains { $0.text.hasPrefix("STOPPING=1") }, "\(last.map(\.text))")
    }

    @Test func withoutAWatchdogThereAreNoPings() throws {
        let sock = try NotifySocket()
        let agent = try LineCollector("/usr/bin/env", ["NOTIFY_SOCKET=\(sock.path)", AgentBinary.path, "run",
                                                       "--board", "sim", "--node", "svc-2", "--interval", "1"])
        defer { agent.stop() }
        let got = sock.receive(for: 1.5)
        #expect(got.contains { $0.text.contains("READY=1") }, "\(got.map(\.text))")
        #expect(!got.contains { $0.text == "WATCHDOG=1" })
    }
}
