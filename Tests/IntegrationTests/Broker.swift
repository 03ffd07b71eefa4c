import Foundation
import Testing

/// A real mosquitto on a free loopback port, with a config of the test's choosing.
final class Broker {
    let port: Int
    let dir: URL
    let extraConfig: String
    private var process: Process?

    init(extraConfig: String = "allow_anonymous true\n", port: Int? = nil) throws {
        self.port = try port ?? Broker.freePort()
        dir = try temporaryDirectory("mosquitto")
        self.extraConfig = extraConfig
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: dir)
    }

    var url: String { "mqtt://127.0.0.1:\(port)" }

    /// Stops or continues the broker process (SIGSTOP/SIGCONT): a broker that holds the
    /// connection open but answers nothing.
    func freeze(_ frozen: Bool) {
        if let p = process { kill(p.processIdentifier, frozen ? SIGSTOP : SIGCONT) }
    }

    /// mosquitto cannot listen on port 0: bind one ourselves, read it back, release it.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw CocoaError(.featureUnsupported) }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    func start() throws {
        let conf = dir.appendingPathComponent("mosquitto.conf")
        // `user root`: started as root, mosquitto would otherwise drop to its own user and
        // could not read the test's key files (as a normal user it keeps that user).
        try "listener \(port) 127.0.0.1\npersistence false\nlog_dest stderr\nuser root\n\(extraConfig)".write(to: conf, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/mosquitto")
        p.arguments = ["-c", conf.path]
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        process = p
        // Ready when the port accepts connections.
        for _ in 0..<100 {
            if Broker.accepts(port: port) { return }
            usleep(50_000)
        }
        Issue.record("mosquitto did not start on port \(port)")
    }

    func stop() {
        guard let p = process else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// mosquitto_sub following `topic` (QoS 1, "topic payload" lines) until stopped.
    func follow(_ topic: String) throws -> LineCollector {
        try LineCollector("/usr/bin/mosquitto_sub", ["-h", "127.0.0.1", "-p", "\(port)", "-v", "-q", "1", "-t", topic])
    }

    /// mosquitto_sub: an independent client. Returns its lines ("topic payload") once it
    /// has `count` of them, or what it has after `timeout` seconds. (Its own -W relies on
    /// SIGALRM, which children of a Foundation Process may have blocked: the harness
    /// enforces the timeout instead.)
    func subscribe(_ topic: String, count: Int, timeout: Int = 10, extra: [String] = []) throws -> [String] {
        let r = try AgentBinary.run("/usr/bin/mosquitto_sub",
                                    ["-h", "127.0.0.1", "-p", "\(port)", "-v", "-q", "1", "-t", topic, "-C", "\(count)"] + extra,
                                    timeout: TimeInterval(timeout), timeoutIsAnswer: true)
        return r.stdout.split(separator: "\n").map(String.init)
    }
}

/// A background process whose stdout lines are collected as they come.
final class LineCollector: @unchecked Sendable { // guarded by `lock`
    let process = Process()
    private let lock = NSLock()
    private var buffer = Data()

    let stderrFile: URL

    init(_ executable: String, _ args: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        let pipe = Pipe()
        process.standardOutput = pipe
        stderrFile = FileManager.default.temporaryDirectory.appendingPathComponent("nexus-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        pipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.lock.lock()
            self.buffer.append(d)
            self.lock.unlock()
        }
        try process.run()
    }

    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: buffer, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Waits until `predicate` holds for the lines so far, or `timeout` seconds.
    @discardableResult
    func wait(timeout: TimeInterval, _ predicate: ([String]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if predicate(lines) { return true }
            usleep(50_000)
        }
        return predicate(lines)
    }

    var stderr: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    /// Sends `signal`; SIGKILL after 5 s if that did not end it (children spawned by
    /// Foundation may inherit a mask that blocks SIGTERM).
    func stop(_ signal: Int32 = SIGTERM) {
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: stderrFile)
    }
}

func payload(_ line: String) throws -> [String: Any] {
    guard let space = line.firstIndex(of: " ") else { throw CocoaError(.coderReadCorrupt) }
    return try json(String(line[line.index(after: space)...]))
}
