import ArgumentParser
import NexusControl
import NexusCrypto
import NexusWire
import Foundation

/// Where the coordinator is and the key commands are signed with: shared by every verb.
struct Connection: ParsableArguments {
    @Option(help: "The coordinator's HTTP address (default $NEXUSCTL_COORDINATOR, else http://127.0.0.1:9480).")
    var coordinator: String?

    @Option(help: "The coordinator's command key (Ed25519 private key, PEM) to sign with (default $NEXUSCTL_KEY).")
    var key: String?

    @Option(help: "The name the agents know that key by (default coordinator).")
    var keyName = "coordinator"

    var client: CoordinatorClient {
        CoordinatorClient(baseURL: coordinator ?? ProcessInfo.processInfo.environment["NEXUSCTL_COORDINATOR"] ?? "http://127.0.0.1:9480")
    }

    func privateKey() throws(ControlError) -> Ed25519.PrivateKey {
        guard let path = key ?? ProcessInfo.processInfo.environment["NEXUSCTL_KEY"] else {
            throw .local("commands are signed with the coordinator's key: give --key FILE (or set NEXUSCTL_KEY)")
        }
        guard let k = Ed25519.PrivateKey(pemFile: path) else {
            throw .local("--key \(path) is not a readable Ed25519 private key in PEM")
        }
        return k
    }
}

var nowMs: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

/// Runs a verb's body and turns a ControlError into its message and exit code.
func reporting(_ body: () async throws(ControlError) -> Void) async throws {
    do { try await body() } catch {
        FileHandle.standardError.write(Data("nexusctl: \(error)\n".utf8))
        throw ExitCode(error.exitCode)
    }
}

/// A read verb: the coordinator's JSON as it is, or as a table.
func show(_ connection: Connection, _ path: String, json: Bool, as table: (JSONValue) -> String) async throws {
    try await reporting { () throws(ControlError) in
        let answer = try await connection.client.get(path)
        print(json ? answer.serialized(pretty: true) : table(answer), terminator: json ? "\n" : "")
    }
}

func checkNode(_ node: String) throws {
    guard !node.isEmpty, node.count <= 63, node.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 || ($0 >= 65 && $0 <= 90) || $0 == 46 })
    else { throw ValidationError("'\(node)' is not a node name (letters, digits, '-', '_', '.')") }
}

func say(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }

/// Waits for `node` to reach `want`, printing each state it passes through; gives up on
/// a decision that says it failed (an abort, a timeout, an alert) or after `timeoutS`.
func follow(_ client: CoordinatorClient, node: String, want: String, since: Int64, timeoutS: Int) async throws(ControlError) {
    let start = nowMs
    var last = ""
    while nowMs - start < Int64(timeoutS) * 1000 {
        let nodes = try await client.get("/v1/nodes")
        let state = nodes["nodes"]?.arrayValue?.first { $0["name"]?.stringValue == node }?["state"]?.stringValue ?? "unknown"
        let elapsed = (nowMs - start) / 1000
        if state != last {
            say("  \(elapsed) s: \(node) is \(state)\n")
            last = state
        }
        if state == want {
            print("\(node) is \(want) (\(elapsed) s)")
            return
        }
        let decisions = try await client.get("/v1/decisions")["decisions"]?.arrayValue ?? []
        if let bad = decisions.first(where: { d in
            d["node"]?.stringValue == node && (d["at_ms"]?.intValue ?? 0) >= since
                && ["aborted", "timeout", "alert"].contains(d["action"]?.stringValue ?? "")
        }) {
            throw .failed("\(node): \(bad["action"]?.stringValue ?? "failed"): \(bad["reason"]?.stringValue ?? "")")
        }
        try? await Task.sleep(for: .seconds(1))
    }
    throw .timedOut("\(node) is \(last), not \(want), after \(timeoutS) s")
}

/// Waits for the agent's answer to a passed-on command (its events carry the id).
func answer(_ client: CoordinatorClient, node: String, verb: String, id: String, since: Int64, timeoutS: Int) async throws(ControlError) -> String {
    let start = nowMs
    while nowMs - start < Int64(timeoutS) * 1000 {
        let events = try await client.get("/v1/events?node=\(node)&since_ms=\(since)")["events"]?.arrayValue ?? []
        for e in events {
            let type = e["type"]?.stringValue ?? ""
            let mine = e["id"]?.stringValue == id
            // An agent that does not trust the key cannot know the id: its refusal names the verb.
            let anonymousRefusal = type == "command-rejected" && e["id"]?.stringValue == nil
                && (e["summary"]?.stringValue ?? "").contains("verb=\(verb)")
            if type == "command-result", mine {
                let summary = e["summary"]?.stringValue ?? ""
                guard e["outcome"]?.stringValue == "ok" else { throw .failed("\(node) could not \(verb): \(summary)") }
                return summary
            }
            if type == "command-rejected", mine || anonymousRefusal {
                throw .failed("\(node) refused the command: \(e["summary"]?.stringValue ?? "")")
            }
        }
        try? await Task.sleep(for: .milliseconds(300))
    }
    throw .timedOut("no answer from \(node) within \(timeoutS) s (is its agent connected?)")
}

/// When the coordinator took the command, by its own clock: what came after is the answer.
func acceptedAt(_ answer: JSONValue) -> Int64 { (answer["at_ms"]?.intValue ?? 1) - 1 }

@main
struct Nexusctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nexusctl",
        abstract: "Look at and command a NexusGrid fleet through its coordinator.",
        discussion: """
            Reads come from the coordinator's JSON API; commands are signed here with the coordinator's \
            command key (--key) and checked by the coordinator before anything happens: sleep and wake \
            are carried out by the coordinator (the same safety rules and drain as its policy), identify \
            and relay are passed on to the agent, which checks the signature again.

            Exit codes: 0 done; 1 a local problem (key file); 2 the coordinator cannot be reached; \
            3 the coordinator refused (signature, unknown node, a safety rule); 4 the agent refused or the \
            action failed; 5 no outcome in time; 64 bad arguments. docs/nexusctl.md.
            """,
        subcommands: [Status.self, Watch.self, Hints.self, Wake.self, Sleep.self, Identify.self, Relay.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The fleet as a table: node, state, watts, °C, load, wake method, last seen.")
        @OptionGroup var connection: Connection
        @Flag(help: "Print the coordinator's JSON instead.") var json = false
        func run() async throws {
            try await show(connection, "/v1/nodes", json: json, as: Tables.status)
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The status table and the latest decisions, redrawn until Ctrl-C.")
        @OptionGroup var connection: Connection
        @Option(help: "Seconds between refreshes.") var interval: Double = 2
        @Option(help: "Stop after this many refreshes (default: until Ctrl-C).") var count: Int?
        func run() async throws {
            guard interval >= 0.2 else { throw ValidationError("--interval must be at least 0.2 s") }
            let tty = isatty(STDOUT_FILENO) == 1
            try await reporting { () throws(ControlError) in
                var n = 0
                while count.map({ n < $0 }) ?? true {
                    n += 1
                    let client = connection.client
                    var screen: String
                    do throws(ControlError) {
                        let nodes = try await client.get("/v1/nodes")
                        let decisions = try await client.get("/v1/decisions")
                        let hints = try await client.get("/v1/hints")
                        screen = "NexusGrid fleet at \(client.baseURL), \(Tables.clock(nowMs)) UTC\n\n" + Tables.status(nodes)
                            + "\nplacement hints\n" + Tables.hints(hints) + "\n" + Tables.decisions(decisions, limit: 8)
                    } catch {
                        // A watch outlives a coordinator restart: say so and keep trying.
                        guard case .unreachable(let url, let detail) = error else { throw error }
                        screen = "\(Tables.clock(nowMs)) UTC: cannot reach \(url) (\(detail)); retrying\n"
                    }
                    // Redraw in place on a terminal; a pipe gets one block after another.
                    print(tty ? "\u{1b}[H\u{1b}[2J" + screen : screen + "----", terminator: tty ? "" : "\n")
                    fflush(nil)  // every stream: a pipe sees each block at once
                    try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
                }
            }
        }
    }

    struct Hints: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The placement hints the scheduler extender gives: schedulable, score, why not.")
        @OptionGroup var connection: Connection
        @Flag(help: "Print the coordinator's JSON instead.") var json = false
        func run() async throws {
            try await show(connection, "/v1/hints", json: json, as: Tables.hints)
        }
    }

    struct Wake: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Wake a sleeping node (the coordinator picks the route) and wait until it is awake.")
        @OptionGroup var connection: Connection
        @Argument(help: "The node to wake.") var node: String
        @Flag(help: "Return once the coordinator has sent the wake.") var noWait = false
        @Option(help: "Seconds to wait for the node to be awake (fallback routes included).") var timeout = 600
        func validate() throws { try checkNode(node) }
        func run() async throws {
            try await reporting { () throws(ControlError) in
                let client = connection.client
                let a = try await client.command("wake", node: node, payload: [], key: try connection.privateKey(),
                                                 keyName: connection.keyName, nowMs: nowMs)
                say("waking \(node) through \(a["via"]?.stringValue ?? "?") (\(a["method"]?.stringValue ?? "?"))\n")
                if !noWait { try await follow(client, node: node, want: "awake", since: acceptedAt(a), timeoutS: timeout) }
            }
        }
    }

    struct Sleep: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put a node to sleep the coordinator's way (drain, then the agent's power-off) and wait until it sleeps.")
        @OptionGroup var connection: Connection
        @Argument(help: "The node to put to sleep.") var node: String
        @Flag(help: "Return once the coordinator has accepted it.") var noWait = false
        @Option(help: "Seconds to wait for the node to be asleep.") var timeout = 600
        func validate() throws { try checkNode(node) }
        func run() async throws {
            try await reporting { () throws(ControlError) in
                let client = connection.client
                let a = try await client.command("sleep", node: node, payload: [], key: try connection.privateKey(),
                                                 keyName: connection.keyName, nowMs: nowMs)
                say("putting \(node) to sleep: \(a["reason"]?.stringValue ?? "")\n")
                if !noWait { try await follow(client, node: node, want: "sleeping", since: acceptedAt(a), timeoutS: timeout) }
            }
        }
    }

    struct Identify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Blink a node's status LED so it can be found in the rack.")
        @OptionGroup var connection: Connection
        @Argument(help: "The node.") var node: String
        @Option(help: "How long, 1-3600 s.") var seconds = 10
        @Option(help: "Seconds to wait for the agent's answer.") var timeout = 15
        func validate() throws {
            try checkNode(node)
            guard (1...3600).contains(seconds) else { throw ValidationError("--seconds must be 1-3600") }
        }
        func run() async throws {
            try await reporting { () throws(ControlError) in
                try await passOn(connection, "identify", node, [("seconds", .int(Int64(seconds)))], timeout)
            }
        }
    }

    struct Relay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Switch a node's relay channel: on, off, or cycle (off, then on after its minimum off-time).")
        @OptionGroup var connection: Connection
        @Argument(help: "The node whose agent drives the relay.") var node: String
        @Argument(help: "The relay channel (its board file's name, such as poe1).") var channel: String
        @Argument(help: "on, off or cycle.") var action: String
        @Option(help: "Seconds to wait for the agent's answer.") var timeout = 30
        func validate() throws {
            try checkNode(node)
            guard ["on", "off", "cycle"].contains(action) else { throw ValidationError("the action is on, off or cycle, not '\(action)'") }
        }
        func run() async throws {
            try await reporting { () throws(ControlError) in
                try await passOn(connection, "relay", node, [("channel", .string(channel)), ("action", .string(action))], timeout)
            }
        }
    }
}

func passOn(_ connection: Connection, _ verb: String, _ node: String, _ payload: [(String, JSONValue)], _ timeoutS: Int) async throws(ControlError) {
    let client = connection.client
    let a = try await client.command(verb, node: node, payload: payload, key: try connection.privateKey(),
                                     keyName: connection.keyName, nowMs: nowMs)
    let id = a["id"]?.stringValue ?? ""
    say("sent \(verb) to \(node) (id \(id)); waiting for its answer\n")
    let summary = try await answer(client, node: node, verb: verb, id: id, since: acceptedAt(a), timeoutS: timeoutS)
    print("\(node): \(verb) done: \(summary)")
}
