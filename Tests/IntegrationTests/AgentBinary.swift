import Foundation
import Testing

/// Runs the built `nexus-agent` binary, as users and scripts do.
struct AgentBinary {
    static let path: String = {
        if let p = ProcessInfo.processInfo.environment["NEXUS_AGENT_BIN"] { return p }
        // The test bundle sits in the build products directory, beside the executable.
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("nexus-agent").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return "nexus-agent"
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a command to completion (or `timeout`, then SIGKILL).
    /// `timeoutIsAnswer`: running out the time is the expected outcome (a subscriber that
    /// should receive nothing), not a failure.
    static func run(_ executable: String, _ args: [String], timeout: TimeInterval = 60, timeoutIsAnswer: Bool = false,
                    whileRunning: ((Process) -> Void)? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["NEXUS_TEST"] = "1"
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Drain both pipes while it runs so a chatty child never blocks.
        final class Sink: @unchecked Sendable { // each written by one reader thread, read after join
            var data = Data()
        }
        let o = Sink(), e = Sink()
        let group = DispatchGroup()
        for (pipe, sink) in [(out, o), (err, e)] {
            group.enter()
            DispatchQueue.global().async {
                sink.data = pipe.fileHandleForReading.readDataToEndOfFile()
                group.leave()
            }
        }
        whileRunning?(p)
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            if !timeoutIsAnswer { Issue.record("\(executable) \(args) timed out after \(timeout) s") }
        }
        p.waitUntilExit()
        group.wait()
        return Result(status: p.terminationStatus, stdout: String(decoding: o.data, as: UTF8.self),
                      stderr: String(decoding: e.data, as: UTF8.self))
    }

    static func agent(_ args: [String], timeout: TimeInterval = 60, whileRunning: ((Process) -> Void)? = nil) throws -> Result {
        try run(path, args, timeout: timeout, whileRunning: whileRunning)
    }
}

func temporaryDirectory(_ name: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nexus-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}
