import Testing
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import NexusCoordinator
import NexusPolicy

/// The HTTP side through Hummingbird's test client: routes, status codes, size limits.
@Suite struct HTTPAPITests {
    /// `wakes`: the nodes this one's agent can wake (by WoL).
    func status(_ node: String, state: String, wakes: [String] = []) -> [UInt8] {
        let names = wakes.map { "\"\($0)\"" }.joined(separator: ","), methods = wakes.map { "\"\($0)\":\"wol\"" }.joined(separator: ",")
        return Array(#"{"schema":1,"node":"\#(node)","online":true,"state":"\#(state)","version":"0.1.0","board":"pi4b","capabilities":{"wakes":[\#(names)],"wake_methods":{\#(methods)}},"wake":{"method":"poe-relay","via":"head"},"warnings":[],"timestamp_ms":1}"#.utf8)
    }

    func app(_ store: FleetStore) -> some ApplicationProtocol {
        Application(router: HTTPAPI.router(store: store, now: { 10_000 }))
    }

    @Test func filterAnswersFromTheFleet() async throws {
        let store = FleetStore()
        store.ingest(topic: "nexusgrid/v1/pi-1/status", payload: status("pi-1", state: "awake"), nowMs: 9_000)
        store.ingest(topic: "nexusgrid/v1/pi-2/status", payload: status("pi-2", state: "sleeping"), nowMs: 9_000)
        store.setFeedConnected(true)
        try await app(store).test(.router) { client in
            let body = ByteBuffer(string: #"{"Pod":{"metadata":{"name":"p"}},"Nodes":null,"NodeNames":["pi-1","pi-2"]}"#)
            try await client.execute(uri: "/scheduler/filter", method: .post, headers: [.contentType: "application/json"], body: body) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "application/json")
                let out = try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
                #expect(out["NodeNames"] as? [String] == ["pi-1"])
                #expect((out["FailedAndUnresolvableNodes"] as? [String: String])?["pi-2"] == "nexusgrid: node is asleep")
            }
            try await client.execute(uri: "/scheduler/prioritize", method: .post, body: body) { r in
                #expect(r.status == .ok)
                let out = try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [[String: Any]])
                #expect(out.count == 2)
            }
            try await client.execute(uri: "/v1/nodes", method: .get) { r in
                let out = try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
                let nodes = try #require(out["nodes"] as? [[String: Any]])
                #expect(nodes.map { $0["name"] as? String } == ["pi-1", "pi-2"])
                #expect(nodes.map { $0["state"] as? String } == ["awake", "sleeping"])
                #expect((out["feed"] as? [String: Any])?["connected"] as? Bool == true)
            }
        }
    }

    @Test func metricsShowTheFleet() async throws {
        let store = FleetStore()
        store.ingest(topic: "nexusgrid/v1/pi-1/status", payload: status("pi-1", state: "awake"), nowMs: 9_000)
        store.ingest(topic: "nexusgrid/v1/pi-2/status", payload: status("pi-2", state: "sleeping"), nowMs: 7_000)
        store.ingest(topic: "nexusgrid/v1/pi-1/telemetry", payload: Array(#"{"seq":1,"node":"pi-1","total_power_w":4.25,"temperatures":[{"celsius":61.5}],"cpu":{"utilisation":0.5}}"#.utf8), nowMs: 9_500)
        store.setFeedConnected(true)
        try await app(store).test(.router) { client in
            try await client.execute(uri: "/scheduler/filter", method: .post, body: ByteBuffer(string: #"{"NodeNames":["pi-1"]}"#)) { _ in }
            try await client.execute(uri: "/metrics", method: .get) { r in
                #expect(r.status == .ok)
                let text = String(buffer: r.body)
                for line in [#"nexusgrid_node_power_watts{node="pi-1"} 4.25"#,
                             #"nexusgrid_node_temperature_celsius{node="pi-1"} 61.5"#,
                             #"nexusgrid_node_thermal_headroom_celsius{node="pi-1"} 18.5"#,
                             #"nexusgrid_node_state{node="pi-2",state="sleeping"} 1.0"#,
                             #"nexusgrid_node_state{node="pi-2",state="awake"} 0.0"#,
                             #"nexusgrid_node_last_seen_seconds{node="pi-2"} 3.0"#,
                             #"nexusgrid_fleet_power_watts 4.25"#,
                             #"nexusgrid_fleet_nodes{state="sleeping"} 1.0"#,
                             #"nexusgrid_feed_connected 1.0"#,
                             #"nexusgrid_extender_requests_total{verb="filter"} 1"#] {
                    #expect(text.contains(line), "missing \(line) in:\n\(text)")
                }
                #expect(text.contains("# TYPE nexusgrid_node_power_watts gauge"))
            }
        }
    }

    @Test func decisionsAreListedNewestFirstWithReasons() async throws {
        let store = FleetStore()
        let all = ["pi-1", "pi-2", "pi-3"]
        for n in all {
            store.ingest(topic: "nexusgrid/v1/\(n)/status", payload: status(n, state: "awake", wakes: all.filter { $0 != n }), nowMs: 9_000)
            store.ingest(topic: "nexusgrid/v1/\(n)/telemetry", payload: Array(#"{"seq":1,"node":"\#(n)","total_power_w":3,"cpu":{"utilisation":0.02}}"#.utf8), nowMs: 9_900)
        }
        store.setFeedConnected(true)
        var s = PolicySettings()
        s.mode = .dryRun
        s.sleepHoldMs = 0
        s.protected = ["pi-1"]
        let power = PolicyRunner(settings: s)
        let d = power.step(store, nowMs: 10_000)
        #expect(d.count == 1 && d.first?.acted == false)
        // While it is under way everyone else sees the node draining: the extender's cordon.
        let chosen = try #require(d.first?.node)
        #expect(store.snapshot().nodes[chosen]?.state == "draining")
        #expect(store.snapshot(raw: true).nodes[chosen]?.state == "awake")
        let app = Application(router: HTTPAPI.router(store: store, power: power, now: { 10_000 }))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/decisions", method: .get) { r in
                let out = try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
                #expect(out["mode"] as? String == "dry-run")
                let list = try #require(out["decisions"] as? [[String: Any]])
                #expect(list.count == 1)
                #expect(list.first?["action"] as? String == "sleep")
                #expect(list.first?["node"] as? String != "pi-1")
                #expect((list.first?["reason"] as? String)?.contains("least efficient idle node") == true)
                #expect(list.first?["acted"] as? Bool == false)
                #expect((out["in_flight"] as? [[String: Any]])?.count == 1)
            }
        }
    }

    @Test func badBodiesAreRefusedClearly() async throws {
        try await app(FleetStore()).test(.router) { client in
            try await client.execute(uri: "/scheduler/filter", method: .post, body: ByteBuffer(string: "{nope")) { r in
                #expect(r.status == .badRequest)
                let out = try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
                #expect((out["Error"] as? String)?.hasPrefix("ExtenderArgs: JSON at byte") == true, "\(out)")
            }
            // Over the 8 MiB limit: 413, before any parsing.
            let big = ByteBuffer(repeating: UInt8(ascii: " "), count: 8 * 1024 * 1024 + 1)
            try await client.execute(uri: "/scheduler/filter", method: .post, body: big) { r in
                #expect(r.status == .contentTooLarge)
            }
            try await client.execute(uri: "/scheduler/prioritize", method: .post, body: ByteBuffer(string: "[]")) { r in
                #expect(r.status == .badRequest)
            }
        }
    }

    @Test func historyEventsAndThePage() async throws {
        let store = FleetStore()
        store.ingest(topic: "nexusgrid/v1/pi-1/status", payload: status("pi-1", state: "awake"), nowMs: 9_000)
        store.ingest(topic: "nexusgrid/v1/pi-1/telemetry",
                     payload: Array(#"{"schema":1,"node":"pi-1","seq":1,"total_power_w":3.5,"cpu":{"utilisation":0.2}}"#.utf8), nowMs: 9_100)
        store.ingest(topic: "nexusgrid/v1/pi-1/event",
                     payload: Array(#"{"schema":1,"node":"pi-1","seq":1,"timestamp_ms":1,"type":"command-result","id":"c1","outcome":"ok","detail":"done"}"#.utf8),
                     nowMs: 9_200)
        // An event that lies about its node is not kept.
        store.ingest(topic: "nexusgrid/v1/pi-1/event", payload: Array(#"{"node":"pi-2","type":"button"}"#.utf8), nowMs: 9_300)
        let history = PowerHistory(intervalMs: 5_000, capacity: 2)
        for t in [9_500, 9_600, 9_700] as [Int64] { history.record(store.snapshot(), nowMs: t, staleAfterMs: 20_000) }
        let app = Application(router: HTTPAPI.router(store: store, history: history, now: { 10_000 }))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/history?since_ms=9550", method: .get) { r in
                let out = try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
                let points = try #require(out["points"] as? [[String: Any]])
                // The capacity keeps the last two points; both are after since_ms.
                #expect(points.map { $0["at_ms"] as? Int } == [9_600, 9_700])
                #expect((points.first?["nodes"] as? [String: Double])?["pi-1"] == 3.5 && points.first?["total_w"] as? Double == 3.5)
            }
            try await client.execute(uri: "/v1/events?node=pi-1", method: .get) { r in
                let out = try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
                let events = try #require(out["events"] as? [[String: Any]])
                #expect(events.count == 1)
                #expect(events.first?["id"] as? String == "c1" && events.first?["outcome"] as? String == "ok")
                #expect(events.first?["summary"] as? String == "outcome=ok detail=done")
            }
            // Every message the feed handed over counts, the refused one too.
            try await client.execute(uri: "/healthz", method: .get) { r in
                let out = try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
                #expect(out["ok"] as? Bool == true && out["feed_messages"] as? Int == 4)
            }
            // Without a command key the coordinator cannot check a signed command: it says so.
            try await client.execute(uri: "/v1/nodes/pi-1/commands/identify", method: .post, body: ByteBuffer(string: "{}")) { r in
                #expect(r.status == .serviceUnavailable)
                #expect(String(buffer: r.body).contains("no command key"))
            }
            try await client.execute(uri: "/", method: .get) { r in
                #expect(r.status == .ok && r.headers[.contentType] == "text/html; charset=utf-8")
                let page = String(buffer: r.body)
                // Everything from the feed goes in as text, never as markup.
                #expect(page.contains("<title>NexusGrid fleet</title>") && !page.contains("innerHTML") && !page.contains("insertAdjacentHTML"))
            }
        }
    }

    @Test func metricsLabelValuesAreEscapedAndGoneNodesLeaveNoSeries() {
        #expect(CoordinatorMetrics.escape(#"a"b\c"#) == #"a\"b\\c"#)
        #expect(CoordinatorMetrics.escape("x\ny") == #"x\ny"#)
        let store = FleetStore()
        store.ingest(topic: "nexusgrid/v1/pi-1/status", payload: status("pi-1", state: "awake"), nowMs: 9_000)
        store.ingest(topic: "nexusgrid/v1/pi-1/telemetry",
                     payload: Array(#"{"schema":1,"node":"pi-1","seq":1,"total_power_w":3.5,"cpu":{"utilisation":0.2}}"#.utf8), nowMs: 9_100)
        let metrics = CoordinatorMetrics()
        let text = metrics.render(store.snapshot(), nowMs: 10_000)
        #expect(text.contains("nexusgrid_node_power_watts{node=\"pi-1\"} 3.5\n"))
        #expect(text.contains("# TYPE nexusgrid_node_power_watts gauge\n"))
        // Rendered from the snapshot each time: an empty fleet has no per-node series left over.
        let empty = metrics.render(FleetStore().snapshot(), nowMs: 10_000)
        #expect(!empty.contains("pi-1") && empty.contains("nexusgrid_fleet_nodes{state=\"awake\"} 0.0"))
    }
}
