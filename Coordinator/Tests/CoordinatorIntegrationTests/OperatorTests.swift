import Testing
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

let nexusctlBin = binary("NEXUSCTL_BIN", [packageDir.appendingPathComponent(".build/debug/nexusctl").path])

/// What an operator uses, against a running simulated fleet: a real mosquitto, three
/// simulated agents trusting the coordinator's key, the built coordinator (policy off, so
/// every change is the operator's), nexusctl, the fleet page in headless Chromium, and a
/// real Prometheus scraping /metrics for the Grafana dashboard's queries.
@Suite(.serialized) struct OperatorTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to its end (at most `timeout` seconds).
    static func run(_ exe: String, _ args: [String], env: [String: String] = [:], timeout: Double = 120) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let dir = FileManager.default.temporaryDirectory
        let out = dir.appendingPathComponent("run-\(UUID().uuidString).out"), err = dir.appendingPathComponent("run-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        let end = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < end { usleep(50_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
        return Run(status: p.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                   stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    func states(_ base: String) async -> [String: String] {
        guard let (_, json) = try? await httpJSON(base + "/v1/nodes"),
              let list = (json as? [String: Any])?["nodes"] as? [[String: Any]] else { return [:] }
        return Dictionary(uniqueKeysWithValues: list.compactMap { n in (n["name"] as? String).map { ($0, n["state"] as? String ?? "") } })
    }

    @Test func operatorToolsAgainstASimulatedFleet() async throws {
        let coordinator = try #require(coordinatorBin, "build nexus-coordinator first")
        let agent = try #require(agentBin, "build the root package's nexus-agent first (tools/test does)")
        let ctl = try #require(nexusctlBin, "build nexusctl first")
        let fleet = try PolicyActsTests.Fleet(agentPath: agent)
        defer { fleet.stopAll() }
        _ = try Self.run("/usr/bin/openssl", ["genpkey", "-algorithm", "ed25519", "-out", fleet.path("coordinator.pem")])
        _ = try Self.run("/usr/bin/openssl", ["pkey", "-in", fleet.path("coordinator.pem"), "-pubout", "-out", fleet.path("coordinator.pub")])
        _ = try Self.run("/usr/bin/openssl", ["genpkey", "-algorithm", "ed25519", "-out", fleet.path("intruder.pem")])
        try "listener \(fleet.mqttPort) 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n"
            .write(toFile: fleet.path("mosquitto.conf"), atomically: true, encoding: .utf8)
        let broker = try Child("/usr/sbin/mosquitto", ["-c", fleet.path("mosquitto.conf")])
        defer { broker.stop() }
        try await Task.sleep(for: .milliseconds(300))
        for n in ["head", "n1", "pc"] { try fleet.setLoad(n, 0.2) }
        try fleet.start("head", config: "node: head\nboard: sim\nsample_interval_s: 0.5\nwake_targets:\n  n1: {method: gpio-pulse, line: GPIO5, pulse_ms: 100}\n")
        try fleet.start("n1", config: "node: n1\nboard: sim\nsample_interval_s: 0.5\nwake: {method: gpio-pulse, via: head}\n")
        try fleet.start("pc", config: "node: pc\nboard: sim-pc\nsample_interval_s: 0.5\n")
        let events = try Child("/usr/bin/mosquitto_sub", ["-h", "127.0.0.1", "-p", "\(fleet.mqttPort)", "-t", "nexusgrid/v1/head/event"], stdout: true)
        defer { events.stop() }

        let httpPort = try freePort()
        try """
            broker: mqtt://127.0.0.1:\(fleet.mqttPort)
            listen: 127.0.0.1:\(httpPort)
            database: ":memory:"
            commands: {key: \(fleet.path("coordinator.pem"))}
            policy: {mode: off}
            """.write(toFile: fleet.path("coordinator.yaml"), atomically: true, encoding: .utf8)
        let coord = try Child(coordinator, ["--config", fleet.path("coordinator.yaml")])
        defer { coord.stop() }
        let base = "http://127.0.0.1:\(httpPort)"
        let env = ["NEXUSCTL_COORDINATOR": base, "NEXUSCTL_KEY": fleet.path("coordinator.pem")]
        // Awake, and a first telemetry from each (the status comes first; the table shows "-" until a reading).
        #expect(await until(30) {
            guard await states(base) == ["head": "awake", "n1": "awake", "pc": "awake"],
                  let (_, j) = try? await httpJSON(base + "/v1/nodes"),
                  let list = (j as? [String: Any])?["nodes"] as? [[String: Any]] else { return false }
            return list.allSatisfy { $0["watts"] is Double }
        }, "\(coord.stderr)")

        // Reading: the table and the hints.
        let status = try Self.run(ctl, ["status"], env: env)
        #expect(status.status == 0, "\(status.stderr)")
        let lines = status.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("NODE") == true && lines.first?.contains("LAST SEEN") == true)
        for (node, wake) in [("head", "none"), ("n1", "gpio-pulse via head"), ("pc", "none")] {
            let row = lines.first { $0.hasPrefix(node + " ") } ?? ""
            #expect(row.contains("awake") && row.contains(" W") && row.contains(wake), "\(status.stdout)")
        }
        // watch into a pipe: one block per refresh, no terminal codes.
        let watch = try Self.run(ctl, ["watch", "--count", "2", "--interval", "0.3"], env: env)
        #expect(watch.status == 0 && watch.stdout.components(separatedBy: "\n----\n").count == 3, "\(watch)")
        #expect(watch.stdout.contains("placement hints") && watch.stdout.contains("policy off") && !watch.stdout.contains("\u{1b}["))
        let hints = try Self.run(ctl, ["hints"], env: env)
        #expect(hints.status == 0 && hints.stdout.contains("SCHEDULABLE") && hints.stdout.contains("n1"), "\(hints)")

        // A passed-on command, answered by the agent.
        let identify = try Self.run(ctl, ["identify", "n1", "--seconds", "1"], env: env)
        #expect(identify.status == 0 && identify.stdout.contains("n1: identify done"),
                "\(identify)\nn1: \(fleet.agents["n1"]?.stderr ?? "")\ncoordinator: \(coord.stderr)")
        let relay = try Self.run(ctl, ["relay", "head", "poe1", "off"], env: env)
        #expect(relay.status == 0 && relay.stdout.contains("head: relay done"), "\(relay)")
        let badChannel = try Self.run(ctl, ["relay", "head", "nope", "on"], env: env)
        #expect(badChannel.status == 4, "an agent's failure is exit 4: \(badChannel)")
        // Refused by the coordinator: the wrong key, an unknown node, a node nobody could wake.
        let forged = try Self.run(ctl, ["identify", "n1", "--key", fleet.path("intruder.pem")], env: env)
        #expect(forged.status == 3 && forged.stderr.contains("signature"), "\(forged)")
        #expect(coord.stderr.contains("operator command refused"))
        let unknown = try Self.run(ctl, ["identify", "n9"], env: env)
        #expect(unknown.status == 3 && unknown.stderr.contains("not a node the coordinator knows"), "\(unknown)")
        let unwakeable = try Self.run(ctl, ["sleep", "pc"], env: env)
        #expect(unwakeable.status == 3 && unwakeable.stderr.contains("no awake agent could wake pc"), "\(unwakeable)")
        let noKey = try Self.run(ctl, ["identify", "n1"], env: ["NEXUSCTL_COORDINATOR": base, "NEXUSCTL_KEY": fleet.path("missing.pem")])
        #expect(noKey.status == 1 && noKey.stderr.contains("not a readable Ed25519 private key"), "\(noKey)")
        let down = try Self.run(ctl, ["status", "--coordinator", "http://127.0.0.1:\(try freePort())"])
        #expect(down.status == 2 && down.stderr.contains("cannot reach the coordinator"), "\(down)")
        let usage = try Self.run(ctl, ["relay", "head", "poe1", "sideways"], env: env)
        #expect(usage.status == 64, "\(usage)")
        // The same envelope twice: the second is a replay.
        let envelope = try Self.run(agent, ["sign", "--key", fleet.path("coordinator.pem"), "--node", "n1", "--verb", "identify"]).stdout
        let first = try await httpJSON(base + "/v1/nodes/n1/commands/identify", body: envelope)
        let second = try await httpJSON(base + "/v1/nodes/n1/commands/identify", body: envelope)
        #expect(first.0 == 202 && second.0 == 409, "\(first) \(second)")

        // Sleep, the coordinator's way: it signs the sleep and the go-ahead; nexusctl shows
        // the states it passes through and returns once the node sleeps.
        let sleep = try Self.run(ctl, ["sleep", "n1", "--timeout", "60"], env: env)
        #expect(sleep.status == 0 && sleep.stdout.contains("n1 is sleeping"), "\(sleep)\n\(coord.stderr)")
        #expect(sleep.stderr.contains("n1 is draining") || sleep.stderr.contains("n1 is awake"), "\(sleep.stderr)")
        let again = try Self.run(ctl, ["sleep", "n1"], env: env)
        #expect(again.status == 3 && again.stderr.contains("not awake"), "\(again)")

        // Wake: head pulses n1's line; the test powers the node up (restarts its agent)
        // when head says the pulse is done, and nexusctl waits until n1 reports awake.
        // (Its progress goes to stderr, which is what Child keeps.)
        let wake = try Child(ctl, ["wake", "n1", "--timeout", "60", "--coordinator", base, "--key", fleet.path("coordinator.pem")])
        #expect(await until(20) { events.stderr.contains(#""target":"n1""#) && events.stderr.contains(#""outcome":"pulsed""#) },
                "head's events: \(events.stderr)\ncoordinator: \(coord.stderr)")
        try fleet.start("n1")
        #expect(await until(30) { !wake.process.isRunning })
        #expect(wake.process.terminationStatus == 0 && wake.stderr.contains(": n1 is awake"), "\(wake.stderr)")
        #expect(wake.stderr.contains("through head (gpio-pulse)") && wake.stderr.contains("n1 is waking"), "\(wake.stderr)")

        // The decisions name the operator.
        let (_, dj) = try await httpJSON(base + "/v1/decisions")
        let decisions = ((dj as? [String: Any])?["decisions"] as? [[String: Any]]) ?? []
        for action in ["sleep", "wake"] {
            #expect(decisions.contains { $0["action"] as? String == action && $0["node"] as? String == "n1"
                && ($0["reason"] as? String ?? "").contains("asked by an operator") && $0["acted"] as? Bool == true }, "\(decisions)")
        }

        // A hostile publisher on the broker: a node whose name is markup.
        let hostile = #"<img src=x onerror=document.title='owned'>"#
        _ = try Self.run("/usr/bin/mosquitto_pub", ["-h", "127.0.0.1", "-p", "\(fleet.mqttPort)", "-t", "nexusgrid/v1/\(hostile)/status",
                                                    "-m", #"{"schema":1,"node":"\#(hostile)","online":true,"state":"awake","board":"sim"}"#])
        #expect(await until(10) { await states(base)[hostile] != nil })

        try await pageChecks(base: base)
        try await prometheusChecks(httpPort: httpPort, dir: fleet.path(""))
    }

    /// The fleet page in a real headless browser: the DOM after its scripts ran.
    func pageChecks(base: String) async throws {
        let chromium = try #require(["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                    "Chromium is needed (tools/deps installs it)")
        // Two history points at least (one every 5 s) for the chart to have a line.
        #expect(await until(15) {
            guard let (_, h) = try? await httpJSON(base + "/v1/history") else { return false }
            return ((h as? [String: Any])?["points"] as? [Any])?.count ?? 0 >= 2
        })
        let page = try Self.run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=/tmp/nexus-chromium-\(getpid())",
                                           "--virtual-time-budget=5000", "--dump-dom", base + "/"], timeout: 90)
        let dom = page.stdout
        #expect(dom.contains("data-loaded="), "the page's script did not finish a refresh: \(page.stderr.suffix(800))")
        let (_, nj) = try await httpJSON(base + "/v1/nodes")
        let nodes = ((nj as? [String: Any])?["nodes"] as? [[String: Any]]) ?? []
        #expect(nodes.count == 4)
        for n in nodes {
            guard let name = n["name"] as? String, let state = n["state"] as? String, !name.hasPrefix("<") else { continue }
            let row = dom.range(of: #"<tr data-node="\#(name)" data-state="\#(state)">"#)
            #expect(row != nil, "no row for \(name) (\(state)) in the page")
            if let row {
                // The row's cells: a reading for an awake node (it changes every half second,
                // so its form is checked, not its value), none for one that is off.
                let html = String(dom[row.upperBound...].prefix { $0 != "\n" }.split(separator: "</tr>").first ?? "")
                let watts = try Regex(#"<td class="num watts">([0-9]+\.[0-9]{2}) W</td>"#)
                if state == "awake" {
                    #expect(html.contains(watts), "\(name): \(html)")
                    #expect(html.contains(#"<span class="state awake">awake</span>"#))
                } else if state == "sleeping" {
                    #expect(html.contains(#"<td class="num watts">–</td>"#), "\(name): \(html)")
                }
            }
        }
        // The hostile name is text, not markup: no element was made from it.
        #expect(dom.contains("&lt;img src=x onerror="), "the hostile node should be shown as text")
        #expect(!dom.contains("<img src=\"x\"") && !dom.contains("<img src=x") && !dom.contains("<title>owned"))
        // The fleet chart has a line through the history; each node a sparkline.
        #expect(dom.contains(#"<polyline points=""#) && dom.contains(#"id="fleet-line""#), "no fleet line")
        #expect(dom.components(separatedBy: #"class="spark""#).count - 1 == nodes.count)
        // The operator's sleep and wake, with their reasons; head's pulse among the events.
        #expect(dom.contains(#"data-action="sleep" data-node="n1""#) && dom.contains(#"data-action="wake" data-node="n1""#))
        #expect(dom.contains("asked by an operator"))
        #expect(dom.contains(#"data-type="wake" data-node="head""#))
        #expect(dom.contains(#"<b id="policy-mode">off</b>"#))
    }

    /// The example Prometheus config scrapes the coordinator, its rules load, and every
    /// query of the Grafana dashboard runs against what was scraped.
    func prometheusChecks(httpPort: Int, dir: String) async throws {
        let docs = packageDir.deletingLastPathComponent().appendingPathComponent("docs")
        let promtool = try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") ? "/usr/bin/promtool" : nil,
                                    "promtool is needed (tools/deps installs prometheus)")
        var config = try String(contentsOf: docs.appendingPathComponent("prometheus/prometheus.yml"), encoding: .utf8)
        #expect(config.contains(#"targets: ["127.0.0.1:9480"]"#))
        config = config.replacingOccurrences(of: "127.0.0.1:9480", with: "127.0.0.1:\(httpPort)")
            .replacingOccurrences(of: "scrape_interval: 15s", with: "scrape_interval: 1s")
            .replacingOccurrences(of: "nexusgrid-rules.yml", with: docs.appendingPathComponent("prometheus/nexusgrid-rules.yml").path)
        try config.write(toFile: dir + "prometheus.yml", atomically: true, encoding: .utf8)
        let check = try Self.run(promtool, ["check", "config", dir + "prometheus.yml"])
        #expect(check.status == 0, "\(check)")

        let promPort = try freePort()
        let prom = try Child("/usr/bin/prometheus", ["--config.file=\(dir)prometheus.yml", "--storage.tsdb.path=\(dir)tsdb",
                                                     "--web.listen-address=127.0.0.1:\(promPort)"])
        defer { prom.stop() }
        let api = "http://127.0.0.1:\(promPort)/api/v1/query?query="
        func query(_ q: String) async -> (String, Int)? {
            let url = api + (q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            guard let (_, j) = try? await httpJSON(url), let o = j as? [String: Any] else { return nil }
            return (o["status"] as? String ?? "", ((o["data"] as? [String: Any])?["result"] as? [Any])?.count ?? 0)
        }
        #expect(await until(40) { (await query("up{job=\"nexusgrid-coordinator\"} == 1"))?.1 == 1 }, "\(prom.stderr.suffix(1500))")
        try await Task.sleep(for: .seconds(3))

        let dashboard = try JSONSerialization.jsonObject(with: Data(contentsOf: docs.appendingPathComponent("grafana/nexusgrid-fleet.json"))) as? [String: Any]
        let panels = dashboard?["panels"] as? [[String: Any]] ?? []
        #expect(panels.count >= 10)
        // Series that exist in any running fleet; the rest (extender traffic, decisions of
        // kinds not made here) may rightly be empty but must still be valid queries.
        let mustHaveData = ["nexusgrid_fleet_power_watts", "nexusgrid_node_power_watts", "nexusgrid_fleet_nodes",
                            "nexusgrid_node_cpu_utilisation", "nexusgrid_node_temperature_celsius", "nexusgrid_feed_connected",
                            "nexusgrid_node_last_seen_seconds", "nexusgrid_policy_decisions"]
        var seen = Set<String>()
        for p in panels {
            for t in p["targets"] as? [[String: Any]] ?? [] {
                let expr = t["expr"] as? String ?? ""
                let r = await query(expr)
                #expect(r?.0 == "success", "\(p["title"] ?? ""): \(expr)")
                for m in mustHaveData where expr.hasPrefix(m) || expr.contains("(" + m) {
                    seen.insert(m)
                    #expect((r?.1 ?? 0) > 0, "\(p["title"] ?? ""): \(expr) returned nothing")
                }
            }
        }
        #expect(seen == Set(mustHaveData), "the dashboard should chart \(Set(mustHaveData).subtracting(seen))")
    }
}
