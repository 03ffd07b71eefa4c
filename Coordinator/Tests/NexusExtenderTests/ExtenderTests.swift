import Testing
import Foundation
import NexusWire
@testable import NexusFleet
@testable import NexusExtender

/// Bodies shaped as kube-scheduler's Go client marshals k8s.io/kube-scheduler/extender/v1
/// types: PascalCase keys (the structs carry no json tags), a v1.Pod and a v1.NodeList
/// with their own lower-case keys, nil pointers as null.
let podJSON = #"{"metadata":{"name":"web-7d4b9","namespace":"default","uid":"0b1c","creationTimestamp":null},"spec":{"containers":[{"name":"web","image":"nginx","resources":{"requests":{"cpu":"250m"}}}]},"status":{}}"#

func nodeJSON(_ name: String) -> String {
    #"{"metadata":{"name":"\#(name)","uid":"u-\#(name)","labels":{"kubernetes.io/hostname":"\#(name)","kubernetes.io/arch":"arm64"},"creationTimestamp":"2026-11-01T10:00:00Z","managedFields":[{"manager":"k3s","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:kubernetes.io/arch":{}}}}}]},"spec":{"podCIDR":"10.42.1.0/24"},"status":{"capacity":{"cpu":"4","memory":"3885588Ki"},"allocatable":{"cpu":"4"},"conditions":[{"type":"Ready","status":"True"}]}}"#
}

func argsWithNodes(_ names: [String]) -> [UInt8] {
    Array(#"{"Pod":\#(podJSON),"Nodes":{"metadata":{},"items":[\#(names.map(nodeJSON).joined(separator: ","))]},"NodeNames":null}"#.utf8)
}

func argsWithNames(_ names: [String]) -> [UInt8] {
    Array(#"{"Pod":\#(podJSON),"Nodes":null,"NodeNames":[\#(names.map { "\"\($0)\"" }.joined(separator: ","))]}"#.utf8)
}

func record(_ name: String, state: String = "awake", celsius: Double = 50, seenMs: Int64 = 100_000,
            idle: Double = 2.7, max: Double = 6.4) -> NodeRecord {
    var r = NodeRecord(name: name)
    r.state = state
    r.online = state != "offline"
    r.maxCelsius = celsius
    r.throttleCelsius = 80
    r.lastSeenMs = seenMs
    r.energy = EnergyModel(priorIdleWatts: idle, priorMaxWatts: max)
    return r
}

func decode(_ v: JSONValue) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(v.serialized().utf8)) as? [String: Any])
}

@Suite struct ExtenderTests {
    let now: Int64 = 105_000

    @Test func parsesBothFormsOfTheArgs() throws {
        let a = try Extender.parseArgs(argsWithNodes(["pi-1", "pi-2"]))
        #expect(a.podName == "web-7d4b9" && a.podNamespace == "default")
        #expect(a.candidates == ["pi-1", "pi-2"])
        #expect(a.nodeNames == nil)
        let b = try Extender.parseArgs(argsWithNames(["pi-3"]))
        #expect(b.candidates == ["pi-3"] && b.nodes == nil)
    }

    @Test(arguments: [
        ("", "JSON at byte 0"),
        ("[]", "expected a JSON object"),
        (#"{"Pod":{}}"#, "neither Nodes nor NodeNames"),
        (#"{"Pod":{},"NodeNames":[1]}"#, "NodeNames must be a list of strings"),
        (#"{"Pod":{},"Nodes":{"items":[{"metadata":{}}]}}"#, "Nodes.items[0] has no metadata.name"),
        (#"{"Pod":{},"Nodes":{"items":"x"}}"#, "Nodes.items must be a list"),
    ])
    func malformedArgsAreClearErrors(body: String, expected: String) {
        #expect(throws: Extender.BadRequest.self) { _ = try Extender.parseArgs(Array(body.utf8)) }
        do { _ = try Extender.parseArgs(Array(body.utf8)) } catch {
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test func filterKeepsTheSchedulersNodeObjectsAndGivesReasons() throws {
        let fleet = ["pi-1": record("pi-1"), "pi-2": record("pi-2", state: "sleeping"),
                     "pi-3": record("pi-3", celsius: 77), "pi-4": record("pi-4", seenMs: 10_000),
                     "pi-5": record("pi-5", state: "draining"), "pi-6": record("pi-6", state: "fault")]
        let args = try Extender.parseArgs(argsWithNodes(["pi-1", "pi-2", "pi-3", "pi-4", "pi-5", "pi-6", "x86-unmanaged"]))
        let out = try decode(Extender.filter(args, fleet: fleet, policy: .init(), nowMs: now, feedIsFresh: true))
        // Exactly the upstream keys.
        #expect(Set(out.keys) == ["Nodes", "NodeNames", "FailedNodes", "FailedAndUnresolvableNodes", "Error"])
        #expect(out["NodeNames"] is NSNull)
        #expect(out["Error"] as? String == "")
        let items = try #require((out["Nodes"] as? [String: Any])?["items"] as? [[String: Any]])
        #expect(items.compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String } == ["pi-1", "x86-unmanaged"])
        // The node objects go back whole (the scheduler uses them as they are).
        let sent = try #require(try JSONSerialization.jsonObject(with: Data(nodeJSON("pi-1").utf8)) as? NSDictionary)
        #expect(NSDictionary(dictionary: items[0]) == sent)
        let failed = try #require(out["FailedAndUnresolvableNodes"] as? [String: String])
        #expect(failed["pi-2"] == "nexusgrid: node is asleep")
        #expect(failed["pi-3"] == "nexusgrid: 3 °C from throttling (needs 5)")
        #expect(failed["pi-4"] == "nexusgrid: no telemetry for 95 s")
        #expect(failed["pi-5"] == "nexusgrid: node is draining before sleep")
        #expect(failed["pi-6"]?.hasPrefix("nexusgrid: node reports a fault") == true)
        #expect(failed.count == 5)
        #expect((out["FailedNodes"] as? [String: String])?.isEmpty == true)
    }

    @Test func nodeCacheCapableGetsNamesBack() throws {
        let fleet = ["a": record("a"), "b": record("b", state: "sleeping")]
        let out = try decode(Extender.filter(try Extender.parseArgs(argsWithNames(["a", "b"])), fleet: fleet,
                                             policy: .init(), nowMs: now, feedIsFresh: true))
        #expect(out["NodeNames"] as? [String] == ["a"])
        #expect(out["Nodes"] is NSNull)
    }

    @Test func staleDataIsNotHeldAgainstNodesWhenTheFeedItselfIsDown() throws {
        let fleet = ["a": record("a", seenMs: 1)]
        let args = try Extender.parseArgs(argsWithNames(["a"]))
        let down = try decode(Extender.filter(args, fleet: fleet, policy: .init(), nowMs: now, feedIsFresh: false))
        #expect(down["NodeNames"] as? [String] == ["a"])
        let up = try decode(Extender.filter(args, fleet: fleet, policy: .init(), nowMs: now, feedIsFresh: true))
        #expect(up["NodeNames"] as? [String] == [])
    }

    @Test func prioritizeRanksByMarginalEnergy() throws {
        // pi-5: 2.5 → 12 W (9.5 W per load); pi-4: 2.7 → 6.4 (3.7); a hot pi-4 pays a penalty.
        let fleet = ["pi4": record("pi4"), "pi5": record("pi5", idle: 2.5, max: 12),
                     "pi4-hot": record("pi4-hot", celsius: 74)]
        let out = Extender.prioritize(try Extender.parseArgs(argsWithNames(["pi5", "pi4", "pi4-hot", "unmanaged"])), fleet: fleet)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(out.serialized().utf8)) as? [[String: Any]])
        #expect(list.map { Set($0.keys) } == Array(repeating: ["Host", "Score"], count: 4))
        let scores = Dictionary(uniqueKeysWithValues: list.map { ($0["Host"] as! String, $0["Score"] as! Int) })
        #expect(scores["pi4"] == 10)
        #expect(scores["pi5"] == 0)
        #expect(scores["unmanaged"] == 0)
        let hot = try #require(scores["pi4-hot"])
        #expect(hot > 0 && hot < 10, "\(hot)")
        #expect(list.allSatisfy { (0...10).contains($0["Score"] as! Int) })
    }

    @Test func equalNodesAllScoreTheMaximum() throws {
        let fleet = ["a": record("a"), "b": record("b")]
        let out = Extender.prioritize(try Extender.parseArgs(argsWithNames(["a", "b"])), fleet: fleet)
        #expect(out.serialized() == #"[{"Host":"a","Score":10},{"Host":"b","Score":10}]"#)
    }
}
