import Testing
import Foundation
import Hummingbird
import NIOCore
import Synchronization
import NexusWire
@testable import NexusFleet
@testable import NexusKube

/// A pod as the API server lists it.
func pod(_ name: String, node: String = "pi-1", ns: String = "default", owner: String? = "ReplicaSet",
         annotations: String = "{}", volumes: String = "[]", phase: String = "Running", conditions: String = "[]") -> String {
    let owners = owner.map { #"[{"apiVersion":"apps/v1","kind":"\#($0)","name":"x","uid":"u","controller":true}]"# } ?? "[]"
    return #"{"metadata":{"name":"\#(name)","namespace":"\#(ns)","annotations":\#(annotations),"ownerReferences":\#(owners)},"#
        + #""spec":{"nodeName":"\#(node)","volumes":\#(volumes)},"status":{"phase":"\#(phase)","conditions":\#(conditions)}}"#
}

@Suite struct PodVerdictTests {
    func verdict(_ s: String) throws -> PodVerdict { PodVerdict.of(try parse(s)) }

    @Test func followsClusterAutoscalersRules() throws {
        #expect(try verdict(pod("web")) == .evict)
        #expect(try verdict(pod("ds", owner: "DaemonSet")) == .skip("DaemonSet pod"))
        #expect(try verdict(pod("static", owner: "Node", annotations: #"{"kubernetes.io/config.mirror":"abc"}"#)) == .skip("static pod"))
        #expect(try verdict(pod("job", owner: nil, phase: "Succeeded")) == .skip("finished (Succeeded)"))
        #expect(try verdict(pod("bare", owner: nil)) == .blocks("not managed by a controller: evicted, it would not come back"))
        #expect(try verdict(pod("db", volumes: #"[{"name":"data","emptyDir":{}}]"#)) == .blocks("local storage (volume data) would be lost"))
        #expect(try verdict(pod("hp", volumes: #"[{"name":"logs","hostPath":{"path":"/var/log"}}]"#)) == .blocks("local storage (volume logs) would be lost"))
        #expect(try verdict(pod("pinned", annotations: #"{"cluster-autoscaler.kubernetes.io/safe-to-evict":"false"}"#))
                == .blocks(#"annotated cluster-autoscaler.kubernetes.io/safe-to-evict: "false""#))
        // safe-to-evict "true" overrides local storage and a missing controller.
        #expect(try verdict(pod("cache", owner: nil, annotations: #"{"cluster-autoscaler.kubernetes.io/safe-to-evict":"true"}"#,
                                volumes: #"[{"name":"c","emptyDir":{}}]"#)) == .evict)
        if case .blocks(let why) = try verdict(pod("coredns", ns: "kube-system")) {
            #expect(why.hasPrefix("a kube-system pod"))
        } else {
            Issue.record("a kube-system pod must block")
        }
    }
}

@Suite struct ClusterReaderTests {
    @Test func findsControlPlaneEtcdAndOptedOutNodes() throws {
        let nodes = try parse(#"""
        [{"metadata":{"name":"server-1","labels":{"node-role.kubernetes.io/control-plane":"true","node-role.kubernetes.io/etcd":"true"}}},
         {"metadata":{"name":"old-master","labels":{"node-role.kubernetes.io/master":"true"}}},
         {"metadata":{"name":"nas","labels":{},"annotations":{"cluster-autoscaler.kubernetes.io/scale-down-disabled":"true"}}},
         {"metadata":{"name":"pi-9","annotations":{"nexusgrid.io/sleep-disabled":"true"}}},
         {"metadata":{"name":"pi-1","labels":{"kubernetes.io/hostname":"pi-1"},"annotations":{"nexusgrid.io/sleep-disabled":"false"}}}]
        """#).arrayValue ?? []
        #expect(ClusterReader.protected(nodes) == [
            "server-1": "etcd member", "old-master": "control-plane node",
            "nas": #"opted out (cluster-autoscaler.kubernetes.io/scale-down-disabled: "true")"#,
            "pi-9": #"opted out (nexusgrid.io/sleep-disabled: "true")"#,
        ])
    }

    @Test func countsOnlyPodsTheSchedulerCouldNotPlace() throws {
        let unschedulable = #"[{"type":"PodScheduled","status":"False","reason":"Unschedulable","message":"0/3 nodes are available"}]"#
        let pods = try parse("[" + [pod("a", node: "", phase: "Pending", conditions: unschedulable),
                                    pod("b", node: "", phase: "Pending", conditions: unschedulable),
                                    pod("c", node: "", phase: "Pending"), // not tried yet
                                    pod("d", phase: "Pending", conditions: #"[{"type":"PodScheduled","status":"True"}]"#)].joined(separator: ",") + "]")
        #expect(ClusterReader.unschedulable(pods.arrayValue ?? []) == 2)
    }
}

/// A small stateful API server: nodes, pods (evictions remove them; some are guarded by a
/// PodDisruptionBudget that refuses a number of times), node patches applied to the
/// taints, and Leases with resourceVersion conflicts, as the real one does.
final class FakeCluster: Sendable {
    struct State {
        var nodes: [String: JSONValue] = [:]
        var nodeVersion = 100
        var pods: [String] = []
        /// pod name → evictions still refused (429); -1: always.
        var pdb: [String: Int] = [:]
        var log: [(method: String, path: String, body: String)] = []
        var lease: JSONValue?
        var leaseVersion = 1
    }
    let state = Mutex(State())

    init(nodes: [String], pods: [String], pdb: [String: Int] = [:]) throws {
        try state.withLock { s in
            for n in nodes {
                s.nodes[n] = try parse(#"{"metadata":{"name":"\#(n)","resourceVersion":"100","labels":{}},"spec":{"taints":[{"key":"foreign","effect":"NoSchedule"}]}}"#)
            }
            s.pods = pods
            s.pdb = pdb
        }
    }

    var log: [(method: String, path: String, body: String)] { state.withLock { $0.log } }

    func taints(_ node: String) -> [String] {
        state.withLock { s in (s.nodes[node]?["spec"]?["taints"]?.arrayValue ?? []).compactMap { $0["key"]?.stringValue } }
    }

    static func answer(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/api/v1/nodes") { _, _ in
            self.state.withLock { s in
                FakeCluster.answer(.ok, #"{"kind":"NodeList","items":["# + s.nodes.keys.sorted().compactMap { s.nodes[$0]?.serialized() }.joined(separator: ",") + "]}")
            }
        }
        router.get("/api/v1/nodes/:name") { _, context in
            let name = context.parameters.get("name") ?? ""
            return self.state.withLock { s in
                s.nodes[name].map { FakeCluster.answer(.ok, $0.serialized()) } ?? FakeCluster.answer(.notFound, #"{"message":"not found"}"#)
            }
        }
        router.patch("/api/v1/nodes/:name") { request, context in
            let name = context.parameters.get("name") ?? ""
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let patch = try parse(body)
            return self.state.withLock { s in
                s.log.append(("PATCH", request.uri.path, body))
                guard var node = s.nodes[name] else { return FakeCluster.answer(.notFound, "{}") }
                if let rv = patch["metadata"]?["resourceVersion"]?.stringValue, rv != node["metadata"]?["resourceVersion"]?.stringValue {
                    return FakeCluster.answer(.conflict, #"{"message":"the object has been modified"}"#)
                }
                if let taints = patch["spec"]?["taints"] {
                    s.nodeVersion += 1
                    node = .object([("metadata", .object([("name", .string(name)), ("resourceVersion", .string("\(s.nodeVersion)")),
                                                          ("labels", node["metadata"]?["labels"] ?? .null)])),
                                    ("spec", .object([("taints", taints)]))])
                    s.nodes[name] = node
                }
                return FakeCluster.answer(.ok, node.serialized())
            }
        }
        router.get("/api/v1/pods") { request, _ in
            let selector = request.uri.queryParameters.get("fieldSelector") ?? ""
            return self.state.withLock { s in
                s.log.append(("GET", "/api/v1/pods?fieldSelector=" + selector, ""))
                let items: [String]
                if selector.hasPrefix("spec.nodeName=") {
                    let node = String(selector.dropFirst("spec.nodeName=".count))
                    items = s.pods.filter { (try? parse($0))?["spec"]?["nodeName"]?.stringValue == node }
                } else {
                    items = s.pods.filter { (try? parse($0))?["status"]?["phase"]?.stringValue == "Pending" }
                }
                return FakeCluster.answer(.ok, #"{"kind":"PodList","items":["# + items.joined(separator: ",") + "]}")
            }
        }
        router.post("/api/v1/namespaces/:ns/pods/:pod/eviction") { request, context in
            let name = context.parameters.get("pod") ?? ""
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            return self.state.withLock { s in
                s.log.append(("POST", request.uri.path, body))
                if let left = s.pdb[name], left != 0 {
                    s.pdb[name] = left > 0 ? left - 1 : left
                    return FakeCluster.answer(.tooManyRequests, #"{"message":"Cannot evict pod as it would violate the pod's disruption budget."}"#)
                }
                s.pods.removeAll { (try? parse($0))?["metadata"]?["name"]?.stringValue == name }
                return FakeCluster.answer(.created, body)
            }
        }
        let leasePath = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"
        router.get("\(leasePath)/:name") { _, _ in
            self.state.withLock { s in
                s.lease.map { FakeCluster.answer(.ok, $0.serialized()) } ?? FakeCluster.answer(.notFound, #"{"message":"not found"}"#)
            }
        }
        router.post(RouterPath(leasePath)) { request, _ in
            let lease = try parse(String(buffer: try await request.body.collect(upTo: 1 << 20)))
            return self.state.withLock { s in
                guard s.lease == nil else { return FakeCluster.answer(.conflict, #"{"message":"already exists"}"#) }
                s.lease = FakeCluster.versioned(lease, s.leaseVersion)
                return FakeCluster.answer(.created, s.lease?.serialized() ?? "{}")
            }
        }
        router.put("\(leasePath)/:name") { request, _ in
            let lease = try parse(String(buffer: try await request.body.collect(upTo: 1 << 20)))
            return self.state.withLock { s in
                guard lease["metadata"]?["resourceVersion"]?.stringValue == "\(s.leaseVersion)" else {
                    return FakeCluster.answer(.conflict, #"{"message":"the object has been modified"}"#)
                }
                s.leaseVersion += 1
                s.lease = FakeCluster.versioned(lease, s.leaseVersion)
                return FakeCluster.answer(.ok, s.lease?.serialized() ?? "{}")
            }
        }
        return router
    }

    static func versioned(_ lease: JSONValue, _ v: Int) -> JSONValue {
        guard case .object(var top) = lease else { return lease }
        for (i, kv) in top.enumerated() where kv.0 == "metadata" {
            guard case .object(var meta) = kv.1 else { continue }
            meta.removeAll { $0.0 == "resourceVersion" }
            meta.append(("resourceVersion", .string("\(v)")))
            top[i] = ("metadata", .object(meta))
        }
        return .object(top)
    }

    func serve(_ body: (KubeClient) async throws -> Void) async throws {
        try await NexusKubeTests.serve(router()) { p in
            let client = try KubeClient(credentials: KubeCredentials(server: "http://127.0.0.1:\(p)", bearerToken: "t"))
            do { try await body(client) } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
        }
    }
}

let clock = Mutex<Int64>(0)
@Sendable func testNow() -> Int64 { clock.withLock { $0 += 100; return $0 } }

@Suite(.serialized) struct DrainerTests {
    func node(_ name: String) -> NodeRecord {
        var r = NodeRecord(name: name)
        r.state = "awake"
        r.board = "pi4b"
        r.wakeMethod = "wol"
        return r
    }

    @Test func cordonsEvictsThroughTheAPIAndWaitsOutABudget() async throws {
        let cluster = try FakeCluster(nodes: ["pi-1", "pi-2"],
                                      pods: [pod("web-1"), pod("guarded"), pod("agent-ds", owner: "DaemonSet"), pod("other", node: "pi-2")],
                                      pdb: ["guarded": 2])
        try await cluster.serve { client in
            var d = Drainer(client: client)
            d.retryMs = 20
            let outcome = await d.drain(node("pi-1"), now: testNow)
            #expect(outcome == .drained(evicted: ["default/web-1", "default/guarded"]))
        }
        let log = cluster.log
        // The cordon comes first: our taint, the foreign one kept.
        let patch = try #require(log.first { $0.method == "PATCH" })
        #expect(log.firstIndex { $0.method == "PATCH" } ?? 99 < log.firstIndex { $0.method == "POST" } ?? -1)
        #expect(try parse(patch.body)["spec"]?["taints"]?.serialized()
                == #"[{"key":"foreign","effect":"NoSchedule"},{"key":"nexusgrid.io/draining","effect":"NoSchedule"}]"#)
        #expect(cluster.taints("pi-1") == ["foreign", "nexusgrid.io/draining"])
        // Evictions: the budget refused "guarded" twice, then let it go; the DaemonSet pod
        // and the other node's pod were never touched.
        let evictions = log.filter { $0.method == "POST" }
        #expect(evictions.map(\.path) == ["/api/v1/namespaces/default/pods/web-1/eviction", "/api/v1/namespaces/default/pods/guarded/eviction",
                                          "/api/v1/namespaces/default/pods/guarded/eviction", "/api/v1/namespaces/default/pods/guarded/eviction"])
        let body = try parse(try #require(evictions.first).body)
        #expect(body["apiVersion"]?.stringValue == "policy/v1" && body["kind"]?.stringValue == "Eviction")
        #expect(body["metadata"]?["name"]?.stringValue == "web-1" && body["metadata"]?["namespace"]?.stringValue == "default")
        #expect(log.contains { $0.path == "/api/v1/pods?fieldSelector=spec.nodeName=pi-1" })
        #expect(cluster.state.withLock { $0.pods.count } == 2)
    }

    @Test func aPodThatCannotMoveLeavesTheNodeUntouched() async throws {
        let cluster = try FakeCluster(nodes: ["pi-1"], pods: [pod("web-1"), pod("db-0", volumes: #"[{"name":"data","emptyDir":{}}]"#)])
        try await cluster.serve { client in
            let outcome = await Drainer(client: client).drain(node("pi-1"), now: testNow)
            #expect(outcome == .blocked("default/db-0: local storage (volume data) would be lost"))
        }
        #expect(!cluster.log.contains { $0.method != "GET" })
        #expect(cluster.taints("pi-1") == ["foreign"])
    }

    @Test func aBudgetThatNeverAllowsItUndoesTheCordon() async throws {
        let cluster = try FakeCluster(nodes: ["pi-1"], pods: [pod("web-1"), pod("quorum", ns: "apps")], pdb: ["quorum": -1])
        try await cluster.serve { client in
            var d = Drainer(client: client)
            d.retryMs = 20
            d.timeoutMs = 1_000
            let outcome = await d.drain(node("pi-1"), now: testNow)
            guard case .failed(let why) = outcome else { Issue.record("\(outcome)"); return }
            #expect(why.contains("not drained after 1 s: apps/quorum: Cannot evict pod as it would violate the pod's disruption budget."), "\(why)")
        }
        #expect(cluster.taints("pi-1") == ["foreign"])
        #expect(cluster.log.filter { $0.method == "PATCH" }.count == 2)
    }

    @Test func theReaderGetsProtectedNodesAndPendingPodsFromTheAPI() async throws {
        let unschedulable = #"[{"type":"PodScheduled","status":"False","reason":"Unschedulable"}]"#
        let cluster = try FakeCluster(nodes: ["pi-1"], pods: [pod("a", node: "", phase: "Pending", conditions: unschedulable), pod("b")])
        cluster.state.withLock { s in
            s.nodes["k3s-server"] = try? parse(#"{"metadata":{"name":"k3s-server","labels":{"node-role.kubernetes.io/control-plane":"true"}}}"#)
        }
        try await cluster.serve { client in
            let r = try await ClusterReader(client: client).read()
            #expect(r.protected == ["k3s-server": "control-plane node"])
            #expect(r.pendingPods == 1)
        }
        #expect(cluster.log.contains { $0.path == "/api/v1/pods?fieldSelector=status.phase=Pending" })
    }
}

@Suite struct LeaseTests {
    @Test func oneLeaderAtATimeAndATakeoverOnlyAfterTheLeaseRunsOut() async throws {
        let cluster = try FakeCluster(nodes: [], pods: [])
        try await cluster.serve { client in
            let a = LeaseElector(client: client, namespace: "kube-system", name: "nexus-coordinator", identity: "a")
            let b = LeaseElector(client: client, namespace: "kube-system", name: "nexus-coordinator", identity: "b")
            // a creates the lease; b finds it held.
            #expect(await a.tryAcquireOrRenew(nowMs: 1_000_000))
            #expect(await !b.tryAcquireOrRenew(nowMs: 1_000_500))
            #expect(b.status.holder == "a")
            // a renews every 2 s; b, watching the record change, never takes over.
            var t: Int64 = 1_002_000
            while t < 1_040_000 {
                #expect(await a.tryAcquireOrRenew(nowMs: t))
                #expect(await !b.tryAcquireOrRenew(nowMs: t + 500))
                t += 2_000
            }
            let lastRenew = t - 2_000
            // a stops (hangs, loses its network). Within its renew deadline it still acts...
            #expect(a.isLeader(nowMs: lastRenew + 9_000))
            // ...then stops by itself, before b may take over (15 s after b last saw a change).
            #expect(!a.isLeader(nowMs: lastRenew + 10_000))
            #expect(await !b.tryAcquireOrRenew(nowMs: lastRenew + 14_000))
            #expect(await b.tryAcquireOrRenew(nowMs: lastRenew + 16_000))
            let lease = try await client.getLease(namespace: "kube-system", name: "nexus-coordinator")
            #expect(lease["spec"]?["holderIdentity"]?.stringValue == "b")
            #expect(lease["spec"]?["leaseTransitions"]?.intValue == 1)
            #expect(lease["spec"]?["leaseDurationSeconds"]?.intValue == 15)
            #expect(lease["spec"]?["renewTime"]?.stringValue == MicroTime.format(ms: lastRenew + 16_000))
            // a comes back: it sees b's lease and stands by.
            #expect(await !a.tryAcquireOrRenew(nowMs: lastRenew + 17_000))
            // b stops cleanly and gives the lease up: a takes it at once.
            await b.release(nowMs: lastRenew + 18_000)
            #expect(await a.tryAcquireOrRenew(nowMs: lastRenew + 19_000))
        }
    }

    @Test func microTimeIsWhatTheAPIServerParses() {
        #expect(MicroTime.format(ms: 0) == "1970-01-01T00:00:00.000000Z")
        #expect(MicroTime.format(ms: 1_795_705_543_138) == "2026-11-26T15:05:43.138000Z")
        #expect(MicroTime.format(ms: 951_782_400_000) == "2000-02-29T00:00:00.000000Z")
    }
}
