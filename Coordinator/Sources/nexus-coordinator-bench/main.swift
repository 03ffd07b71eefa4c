import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NexusCoordinator
import NexusExtender
import NexusFleet
import NexusPolicy
import NexusStore
import Synchronization

// Figures for docs/benchmarks.md, printed, not judged: what the coordinator spends per
// feed message (parse and model update, in process), the scheduler extender's latency
// over HTTP on loopback as the scheduler sees it, a policy round, and the energy
// history's SQLite writes, at several fleet sizes. Each figure is repeated (`--runs`)
// and given as min / median / max of the runs, since this machine is shared and noisy.
//
//   nexus-coordinator-bench [--runs 5] [--sizes 100,1000,5000] [--requests 400]

func arg(_ name: String, _ fallback: String) -> String {
    let a = CommandLine.arguments
    guard let i = a.firstIndex(of: "--" + name), i + 1 < a.count else { return fallback }
    return a[i + 1]
}
let runs = Int(arg("runs", "5")) ?? 5
let sizes = arg("sizes", "100,1000,5000").split(separator: ",").compactMap { Int($0) }
let requests = Int(arg("requests", "400")) ?? 400

func nanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
func sorted(_ v: [Double]) -> [Double] { v.sorted() }
func pct(_ v: [Double], _ p: Double) -> Double {
    let s = v.sorted()
    return s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))]
}
/// min / median / max of one figure over the runs.
func spread(_ v: [Double], _ places: Int = 1) -> String {
    let s = v.sorted()
    func f(_ x: Double) -> String { String(format: "%.\(places)f", x) }
    return "\(f(s[0])) / \(f(s[s.count / 2])) / \(f(s[s.count - 1]))"
}
func line(_ what: String, _ value: String) { print(what.padding(toLength: 58, withPad: " ", startingAt: 0) + value) }

// What a real agent sends (the sim board's telemetry from the first-boot test).
func telemetry(_ node: String, seq: Int, watts: Double, util: Double) -> [UInt8] {
    Array(#"{"seq":\#(seq),"schema":1,"node":"\#(node)","board":"pi4b","timestamp_ms":1795731932945,"power":[{"name":"node","label":"Node input (5 V)","address":"0x40","source":"ina219","status":"ok","bus_v":5.1,"shunt_v":0.07422,"current_a":0.7422,"power_w":\#(watts),"conversion_ready":true}],"total_power_w":\#(watts),"temperatures":[{"chip":"cpu_thermal-virtual-0","label":"temp1","celsius":40.267,"alarm":false}],"hwmon_other":[],"cpu":{"utilisation":\#(util)},"load":{"1m":1.65,"5m":0.85,"15m":0.35},"memory":{"total_kib":991364,"available_kib":824728,"used_fraction":0.1681},"faults":[],"energy_kwh":0.00012,"mqtt":{"dropped_telemetry":0,"dropped_events":0}}"#.utf8)
}
func status(_ node: String, state: String) -> [UInt8] {
    Array(#"{"schema":1,"node":"\#(node)","online":true,"state":"\#(state)","version":"0.1.0","board":"pi4b","capabilities":{"sensors":["node"],"relays":["poe1"],"leds":["status","fault"],"wake":["gpio-pulse","poe-relay"],"wakes":[],"wake_methods":{}},"wake":{"method":"poe-relay","via":"head"},"warnings":[],"timestamp_ms":1}"#.utf8)
}

final class PortBox: Sendable { let port = Mutex<Int?>(nil) }
/// The servers are stopped by cancelling them, which Hummingbird logs as an error.
let quiet: Logger = { var l = Logger(label: "bench"); l.logLevel = .critical; return l }()

func fleet(_ n: Int, nowMs: Int64) -> FleetStore {
    let store = FleetStore()
    for i in 0..<n {
        let name = "node-\(i)"
        store.ingest(topic: "nexusgrid/v1/\(name)/status", payload: status(name, state: i % 5 == 4 ? "sleeping" : "awake"), nowMs: nowMs)
        store.ingest(topic: "nexusgrid/v1/\(name)/telemetry", payload: telemetry(name, seq: 1, watts: 3 + Double(i % 7) / 3, util: Double(i % 10) / 10), nowMs: nowMs)
    }
    store.setFeedConnected(true)
    return store
}

print("nexus-coordinator benchmarks (\(ProcessInfo.processInfo.processorCount) CPUs; each figure min / median / max of \(runs) runs)")

// 1. Feed ingest in process: JSON parse, record update, energy model update.
do {
    let n = 1000, perRun = 50_000
    let store = fleet(n, nowMs: 1)
    var perMsg: [Double] = []
    for _ in 0..<runs {
        let t0 = nanos()
        for k in 0..<perRun {
            let name = "node-\(k % n)"
            store.ingest(topic: "nexusgrid/v1/\(name)/telemetry", payload: telemetry(name, seq: 2 + k / n, watts: 4.1, util: 0.3), nowMs: 2)
        }
        perMsg.append(Double(nanos() - t0) / Double(perRun) / 1000)
    }
    line("feed ingest, µs per telemetry message (\(telemetry("node-1", seq: 1, watts: 4, util: 0.3).count) B)", spread(perMsg, 2))
    line("  => messages per second on one core", spread(perMsg.map { 1_000_000 / $0 }, 0))
}

// 2. Policy: one round over the fleet.
for n in sizes {
    let store = fleet(n, nowMs: 1_000)
    var p50: [Double] = [], p99: [Double] = []
    for _ in 0..<runs {
        var settings = PolicySettings()
        settings.mode = .dryRun
        var policy = PowerPolicy(settings: settings)
        let nodes = store.snapshot(raw: true).nodes
        var times: [Double] = []
        for r in 0..<200 {
            let t0 = nanos()
            _ = policy.evaluate(nodes, nowMs: 1_000 + Int64(r), feedFresh: true)
            times.append(Double(nanos() - t0) / 1000)
        }
        p50.append(pct(times, 0.5)); p99.append(pct(times, 0.99))
    }
    line("policy round, \(n) nodes: p50 µs", spread(p50))
    line("policy round, \(n) nodes: p99 µs", spread(p99))
}

// 3. SQLite: the energy history (a row per node a minute) and the model save.
do {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nexus-bench-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    for n in sizes {
        let nodes = Array(fleet(n, nowMs: 1).snapshot(raw: true).nodes.values)
        var energyRows: [Double] = [], saveMs: [Double] = []
        for r in 0..<runs {
            let db = try FleetDatabase(path: dir.appendingPathComponent("b-\(n)-\(r).sqlite").path)
            let t0 = nanos()
            for m in 0..<10 { try db.sampleEnergy(nodes, atMs: Int64(m) * 60_000) }
            energyRows.append(Double(10 * n) / (Double(nanos() - t0) / 1e9))
            let t1 = nanos()
            try db.save(nodes: nodes)
            saveMs.append(Double(nanos() - t1) / 1e6)
        }
        line("SQLite energy history, \(n) nodes: rows per second", spread(energyRows, 0))
        line("SQLite model save, \(n) nodes: ms", spread(saveMs, 2))
    }
}

// 4. The extender over HTTP, as kube-scheduler calls it (one request at a time).
for n in sizes {
    let store = fleet(n, nowMs: Int64(Date().timeIntervalSince1970 * 1000))
    let now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    let portBox = PortBox()
    let app = Application(router: HTTPAPI.router(store: store, now: now),
                          configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "bench"),
                          onServerRunning: { channel in portBox.port.withLock { $0 = channel.localAddress?.port } },
                          logger: quiet)
    let server = Task { try await app.runService() }
    var port: Int?
    for _ in 0..<100 where port == nil {
        try await Task.sleep(for: .milliseconds(20))
        port = portBox.port.withLock { $0 }
    }
    guard let port else { print("the server did not start"); exit(1) }
    let names = (0..<n).map { "\"node-\($0)\"" }.joined(separator: ",")
    let body = #"{"Pod":{"metadata":{"name":"web-1","namespace":"default"}},"Nodes":null,"NodeNames":[\#(names)]}"#
    // Where a filter's time goes, in process: parsing the request, the rules, writing the answer.
    do {
        var parse: [Double] = [], rules: [Double] = [], write: [Double] = []
        let bytes = Array(body.utf8)
        for _ in 0..<runs {
            var tp = 0.0, tr = 0.0, tw = 0.0
            for _ in 0..<100 {
                let t0 = nanos()
                let a = try Extender.parseArgs(bytes)
                let t1 = nanos()
                let snapshot = store.snapshot()
                let out = Extender.filter(a, fleet: snapshot.nodes, policy: .init(), nowMs: now(), feedIsFresh: true)
                let t2 = nanos()
                _ = out.serialized()
                let t3 = nanos()
                tp += Double(t1 - t0); tr += Double(t2 - t1); tw += Double(t3 - t2)
            }
            parse.append(tp / 100 / 1e6); rules.append(tr / 100 / 1e6); write.append(tw / 100 / 1e6)
        }
        line("  filter in process, \(n) nodes: parse request, ms", spread(parse, 3))
        line("  filter in process, \(n) nodes: snapshot + rules, ms", spread(rules, 3))
        line("  filter in process, \(n) nodes: write answer, ms", spread(write, 3))
    }
    for verb in ["filter", "prioritize"] {
        var p50: [Double] = [], p99: [Double] = []
        for _ in 0..<runs {
            var times: [Double] = []
            for _ in 0..<requests {
                var req = HTTPClientRequest(url: "http://127.0.0.1:\(port)/scheduler/\(verb)")
                req.method = .POST
                req.headers.add(name: "Content-Type", value: "application/json")
                req.body = .bytes(ByteBuffer(string: body))
                let t0 = nanos()
                let r = try await HTTPClient.shared.execute(req, timeout: .seconds(10))
                _ = try await r.body.collect(upTo: 16 * 1024 * 1024)
                times.append(Double(nanos() - t0) / 1e6)
                guard r.status == .ok else { print("HTTP \(r.status)"); exit(1) }
            }
            p50.append(pct(times, 0.5)); p99.append(pct(times, 0.99))
        }
        line("extender \(verb), \(n) nodes (\(body.utf8.count / 1024) KiB): p50 ms", spread(p50, 3))
        line("extender \(verb), \(n) nodes: p99 ms", spread(p99, 3))
    }
    server.cancel()
}
